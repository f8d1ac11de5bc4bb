#include "server/cbor_codec.hpp"

#include <bit>
#include <cstdint>
#include <stdexcept>

namespace dagster_dms::server {

namespace {

enum Major : std::uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kText = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
};

void put_head(std::string& out, Major major, std::uint64_t value) {
  const auto type = static_cast<std::uint8_t>(major << 5);
  const auto put_bytes = [&](int count) {
    for (int shift = (count - 1) * 8; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((value >> shift) & 0xff));
    }
  };
  if (value < 24) {
    out.push_back(static_cast<char>(type | value));
  } else if (value <= 0xff) {
    out.push_back(static_cast<char>(type | 24));
    put_bytes(1);
  } else if (value <= 0xffff) {
    out.push_back(static_cast<char>(type | 25));
    put_bytes(2);
  } else if (value <= 0xffffffffULL) {
    out.push_back(static_cast<char>(type | 26));
    put_bytes(4);
  } else {
    out.push_back(static_cast<char>(type | 27));
    put_bytes(8);
  }
}

void put_double(std::string& out, double value) {
  out.push_back(static_cast<char>(0xfb));
  const auto bits = std::bit_cast<std::uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((bits >> shift) & 0xff));
  }
}

void encode(std::string& out, const nlohmann::json& value, bool timestamp,
            const std::function<bool(std::string_view)>& is_timestamp) {
  if (timestamp && value.is_number()) put_head(out, kTag, 1);
  switch (value.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      out.push_back(static_cast<char>(0xf6));
      break;
    case nlohmann::json::value_t::boolean:
      out.push_back(static_cast<char>(value.get<bool>() ? 0xf5 : 0xf4));
      break;
    case nlohmann::json::value_t::number_unsigned:
      put_head(out, kUnsigned, value.get<std::uint64_t>());
      break;
    case nlohmann::json::value_t::number_integer: {
      const auto number = value.get<std::int64_t>();
      if (number >= 0) {
        put_head(out, kUnsigned, static_cast<std::uint64_t>(number));
      } else {
        put_head(out, kNegative, static_cast<std::uint64_t>(-(number + 1)));
      }
      break;
    }
    case nlohmann::json::value_t::number_float:
      put_double(out, value.get<double>());
      break;
    case nlohmann::json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      put_head(out, kText, text.size());
      out += text;
      break;
    }
    case nlohmann::json::value_t::array:
      put_head(out, kArray, value.size());
      for (const auto& element : value) encode(out, element, timestamp, is_timestamp);
      break;
    case nlohmann::json::value_t::object:
      put_head(out, kMap, value.size());
      for (auto it = value.begin(); it != value.end(); ++it) {
        put_head(out, kText, it.key().size());
        out += it.key();
        encode(out, it.value(), is_timestamp(it.key()), is_timestamp);
      }
      break;
    case nlohmann::json::value_t::binary:
      throw std::logic_error("binary values are not part of any answer dms-local gives");
  }
}

}  // namespace

nlohmann::json decode_cbor_body(std::string_view body) {
  if (body.empty()) return nlohmann::json::object();
  auto document = nlohmann::json::from_cbor(body.begin(), body.end(), /*strict=*/true,
                                            /*allow_exceptions=*/false,
                                            nlohmann::json::cbor_tag_handler_t::ignore);
  if (document.is_discarded()) throw std::invalid_argument("Malformed CBOR body");
  return document;
}

std::string encode_cbor_body(const nlohmann::json& document,
                             const std::function<bool(std::string_view)>& is_timestamp) {
  std::string out;
  encode(out, document, false, is_timestamp);
  return out;
}

}  // namespace dagster_dms::server
