#include "server/front/cbor_codec.hpp"

#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "server/front/json_nesting.hpp"

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

// Reads one CBOR data item into JSON. Ours because nlohmann's reader rejects tags 0-5, and
// Smithy sends every timestamp as tag 1; a tag here just yields its value. Byte strings become
// text (no CloudWatch input member is a blob).
class CborReader {
 public:
  explicit CborReader(std::string_view data) : data_(data) {}
  [[nodiscard]] bool at_end() const { return position_ == data_.size(); }

  nlohmann::json item(int depth) {
    if (depth > static_cast<int>(kMaxNestingDepth)) {
      fail("nesting deeper than the limit of " + std::to_string(kMaxNestingDepth) + " levels");
    }
    const std::uint8_t initial = byte();
    const auto major = static_cast<std::uint8_t>(initial >> 5);
    const auto info = static_cast<std::uint8_t>(initial & 0x1f);
    if (major == 7) return simple(info);
    if (info == 31) return indefinite(major, depth);
    const std::uint64_t value = argument(info);
    switch (major) {
      case kUnsigned:
        return value;
      case kNegative:
        if (value > static_cast<std::uint64_t>(INT64_MAX)) fail("negative integer out of range");
        return -1 - static_cast<std::int64_t>(value);
      case 2:  // byte string
      case kText:
        return std::string(take(value));
      case kArray: {
        nlohmann::json out = nlohmann::json::array();
        for (std::uint64_t i = 0; i < value; ++i) out.push_back(item(depth + 1));
        return out;
      }
      case kMap: {
        nlohmann::json out = nlohmann::json::object();
        for (std::uint64_t i = 0; i < value; ++i) {
          auto key = item(depth + 1);
          if (!key.is_string()) fail("map key is not a string");
          out[key.get<std::string>()] = item(depth + 1);
        }
        return out;
      }
      default:  // kTag
        return item(depth + 1);
    }
  }

 private:
  [[noreturn]] static void fail(const std::string& why) {
    throw std::invalid_argument("Malformed CBOR body: " + why);
  }
  std::uint8_t byte() {
    if (position_ >= data_.size()) fail("unexpected end");
    return static_cast<std::uint8_t>(data_[position_++]);
  }
  std::string_view take(std::uint64_t count) {
    if (count > data_.size() - position_) fail("unexpected end");
    const auto out = data_.substr(position_, count);
    position_ += count;
    return out;
  }
  std::uint64_t big_endian(int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = (value << 8) | byte();
    return value;
  }
  std::uint64_t argument(std::uint8_t info) {
    if (info < 24) return info;
    if (info == 24) return big_endian(1);
    if (info == 25) return big_endian(2);
    if (info == 26) return big_endian(4);
    if (info == 27) return big_endian(8);
    fail("reserved additional information");
  }
  nlohmann::json simple(std::uint8_t info) {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
      case 23:
        return nullptr;
      case 25: {  // half precision
        const auto half = static_cast<std::uint16_t>(big_endian(2));
        const int exponent = (half >> 10) & 0x1f;
        const int mantissa = half & 0x3ff;
        double value = exponent == 0    ? std::ldexp(mantissa, -24)
                       : exponent == 31 ? (mantissa == 0 ? INFINITY : NAN)
                                        : std::ldexp(mantissa + 1024, exponent - 25);
        return (half & 0x8000) != 0 ? -value : value;
      }
      case 26:
        return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(big_endian(4))));
      case 27:
        return std::bit_cast<double>(big_endian(8));
      default:
        fail("unsupported simple value");
    }
  }
  // Indefinite-length strings, arrays and maps end with the break byte 0xff.
  nlohmann::json indefinite(std::uint8_t major, int depth) {
    const auto is_break = [&] {
      if (position_ >= data_.size()) fail("unexpected end");
      if (static_cast<std::uint8_t>(data_[position_]) != 0xff) return false;
      ++position_;
      return true;
    };
    if (major == 2 || major == kText) {
      std::string out;
      while (!is_break()) {
        auto chunk = item(depth + 1);
        if (!chunk.is_string()) fail("bad string chunk");
        out += chunk.get<std::string>();
      }
      return out;
    }
    if (major == kArray) {
      nlohmann::json out = nlohmann::json::array();
      while (!is_break()) out.push_back(item(depth + 1));
      return out;
    }
    if (major == kMap) {
      nlohmann::json out = nlohmann::json::object();
      while (!is_break()) {
        auto key = item(depth + 1);
        if (!key.is_string()) fail("map key is not a string");
        out[key.get<std::string>()] = item(depth + 1);
      }
      return out;
    }
    fail("indefinite length on a type that has none");
  }

  std::string_view data_;
  std::size_t position_ = 0;
};

}  // namespace

nlohmann::json decode_cbor_body(std::string_view body) {
  if (body.empty()) return nlohmann::json::object();
  CborReader reader(body);
  auto document = reader.item(0);
  if (!reader.at_end()) throw std::invalid_argument("Malformed CBOR body: trailing bytes");
  return document;
}

std::string encode_cbor_body(const nlohmann::json& document,
                             const std::function<bool(std::string_view)>& is_timestamp) {
  std::string out;
  encode(out, document, false, is_timestamp);
  return out;
}

}  // namespace dagster_dms::server
