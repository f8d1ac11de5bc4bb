#include "replicate/pgoutput.hpp"

#include <fmt/format.h>

#include <charconv>

namespace dagster_dms::replicate {

std::string format_lsn(Lsn lsn) {
  return fmt::format("{:X}/{:X}", lsn >> 32, lsn & 0xFFFFFFFFu);
}

std::optional<Lsn> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return {};
  const auto half = [](std::string_view part) -> std::optional<std::uint32_t> {
    if (part.size() > 8) return {};
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value, 16);
    if (error != std::errc() || end != part.data() + part.size()) return {};
    return value;
  };
  const auto high = half(text.substr(0, slash));
  const auto low = half(text.substr(slash + 1));
  if (!high || !low) return {};
  return (static_cast<Lsn>(*high) << 32) | *low;
}

namespace {
// 2000-01-01T00:00:00Z in Unix seconds.
constexpr std::int64_t kPgEpochUnixSeconds = 946684800;
}  // namespace

std::chrono::system_clock::time_point from_pg_timestamp(std::int64_t micros) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(micros) + std::chrono::seconds(kPgEpochUnixSeconds)));
}

std::int64_t to_pg_timestamp(std::chrono::system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count() -
         kPgEpochUnixSeconds * 1000000;
}

namespace pgoutput {

namespace {

// Reads the protocol's big-endian integers and strings off a byte view, refusing to run past
// its end: a short message is a protocol error, never undefined behaviour.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  template <typename T>
  T integer() {
    need(sizeof(T));
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value = (value << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    }
    pos_ += sizeof(T);
    return static_cast<T>(value);
  }

  char byte() { return static_cast<char>(integer<std::uint8_t>()); }

  std::string cstring() {
    const auto end = data_.find('\0', pos_);
    if (end == std::string_view::npos) throw ProtocolError("pgoutput: unterminated string");
    std::string out(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }

  std::string bytes(std::size_t count) {
    need(count);
    std::string out(data_.substr(pos_, count));
    pos_ += count;
    return out;
  }

  Tuple tuple() {
    const auto count = integer<std::uint16_t>();
    Tuple out;
    out.reserve(count);
    for (std::uint16_t i = 0; i < count; ++i) {
      TupleValue value;
      const char kind = byte();
      switch (kind) {
        case 'n':
          value.kind = ValueKind::kNull;
          break;
        case 'u':
          value.kind = ValueKind::kUnchangedToast;
          break;
        case 't': {
          value.kind = ValueKind::kText;
          const auto length = integer<std::int32_t>();
          if (length < 0) throw ProtocolError("pgoutput: negative value length");
          value.text = bytes(static_cast<std::size_t>(length));
          break;
        }
        default:
          // 'b' (binary) only comes when asked for; we never ask.
          throw ProtocolError(fmt::format("pgoutput: unknown tuple value kind '{}'", kind));
      }
      out.push_back(std::move(value));
    }
    return out;
  }

 private:
  void need(std::size_t count) const {
    if (data_.size() - pos_ < count) throw ProtocolError("pgoutput: message is cut short");
  }

  std::string_view data_;
  std::size_t pos_ = 0;
};

Tuple expect_new_tuple(Reader& reader) {
  if (reader.byte() != 'N') throw ProtocolError("pgoutput: expected a new tuple ('N')");
  return reader.tuple();
}

}  // namespace

Message parse_message(std::string_view data) {
  if (data.empty()) throw ProtocolError("pgoutput: empty message");
  Reader reader(data);
  const char tag = reader.byte();
  switch (tag) {
    case 'B': {
      Begin out;
      out.final_lsn = reader.integer<std::uint64_t>();
      out.commit_time = reader.integer<std::int64_t>();
      out.xid = reader.integer<std::uint32_t>();
      return out;
    }
    case 'C': {
      Commit out;
      out.flags = reader.integer<std::uint8_t>();
      out.commit_lsn = reader.integer<std::uint64_t>();
      out.end_lsn = reader.integer<std::uint64_t>();
      out.commit_time = reader.integer<std::int64_t>();
      return out;
    }
    case 'R': {
      Relation out;
      out.id = reader.integer<std::uint32_t>();
      out.schema = reader.cstring();
      out.name = reader.cstring();
      out.replica_identity = reader.byte();
      const auto count = reader.integer<std::uint16_t>();
      for (std::uint16_t i = 0; i < count; ++i) {
        RelationColumn column;
        column.key = (reader.integer<std::uint8_t>() & 1) != 0;
        column.name = reader.cstring();
        column.type_oid = reader.integer<std::uint32_t>();
        column.type_modifier = reader.integer<std::int32_t>();
        out.columns.push_back(std::move(column));
      }
      return out;
    }
    case 'I': {
      Insert out;
      out.relation = reader.integer<std::uint32_t>();
      out.new_tuple = expect_new_tuple(reader);
      return out;
    }
    case 'U': {
      Update out;
      out.relation = reader.integer<std::uint32_t>();
      char next = reader.byte();
      if (next == 'K' || next == 'O') {
        out.old_kind = next;
        out.old_tuple = reader.tuple();
        next = reader.byte();
      }
      if (next != 'N') throw ProtocolError("pgoutput: expected a new tuple ('N') in an update");
      out.new_tuple = reader.tuple();
      return out;
    }
    case 'D': {
      Delete out;
      out.relation = reader.integer<std::uint32_t>();
      out.old_kind = reader.byte();
      if (out.old_kind != 'K' && out.old_kind != 'O') {
        throw ProtocolError("pgoutput: expected an old key ('K') or row ('O') in a delete");
      }
      out.old_tuple = reader.tuple();
      return out;
    }
    case 'T': {
      Truncate out;
      const auto count = reader.integer<std::uint32_t>();
      out.options = reader.integer<std::uint8_t>();
      for (std::uint32_t i = 0; i < count; ++i) {
        out.relations.push_back(reader.integer<std::uint32_t>());
      }
      return out;
    }
    case 'O':  // Origin
    case 'Y':  // Type
    case 'M':  // logical decoding message
      return Other{tag};
    default:
      throw ProtocolError(fmt::format("pgoutput: unknown message type '{}'", tag));
  }
}

}  // namespace pgoutput
}  // namespace dagster_dms::replicate
