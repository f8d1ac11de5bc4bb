#include "replicate/mysql/binlog_rows.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <iconv.h>

#include <array>
#include <bit>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>

#include "replicate/cdc.hpp"

namespace dagster_dms::replicate::mysql {

namespace {

// enum_field_types (mysql_com.h): kept here so the decoder builds without the client library.
enum FieldType : std::uint8_t {
  kDecimal = 0,
  kTiny = 1,
  kShort = 2,
  kLong = 3,
  kFloat = 4,
  kDouble = 5,
  kNull = 6,
  kTimestamp = 7,
  kLongLong = 8,
  kInt24 = 9,
  kDate = 10,
  kTime = 11,
  kDateTime = 12,
  kYear = 13,
  kNewDate = 14,
  kVarchar = 15,
  kBit = 16,
  kTimestamp2 = 17,
  kDateTime2 = 18,
  kTime2 = 19,
  kJson = 245,
  kNewDecimal = 246,
  kEnum = 247,
  kSet = 248,
  kTinyBlob = 249,
  kMediumBlob = 250,
  kLongBlob = 251,
  kBlob = 252,
  kVarString = 253,
  kString = 254,
  kGeometry = 255,
};

// Reads `count` bytes off the front of `data`.
std::string_view take(std::string_view& data, std::size_t count) {
  if (data.size() < count) throw BinlogFormatError("row image is cut short");
  const auto out = data.substr(0, count);
  data.remove_prefix(count);
  return out;
}

std::uint64_t little_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

std::uint64_t big_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (const char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string integer_text(std::uint64_t raw, int bytes, bool is_unsigned) {
  const int bits = bytes * 8;
  if (is_unsigned) return std::to_string(raw);
  if (bits < 64 && (raw >> (bits - 1)) != 0) {
    raw |= ~std::uint64_t{0} << bits;  // sign-extend
  }
  return std::to_string(static_cast<std::int64_t>(raw));
}

std::string hex_bytes(std::string_view bytes) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 0xF];
  }
  return out;
}

// MySQL's character set names to iconv's; UTF-8 and ASCII need no conversion.
std::string iconv_name(const std::string& charset) {
  if (charset == "latin1") return "CP1252";  // MySQL's latin1 is Windows-1252
  if (charset == "latin2") return "ISO-8859-2";
  if (charset == "greek") return "ISO-8859-7";
  if (charset == "hebrew") return "ISO-8859-8";
  if (charset == "koi8r") return "KOI8-R";
  if (charset == "ujis") return "EUC-JP";
  if (charset == "sjis") return "SHIFT_JIS";
  if (charset == "euckr") return "EUC-KR";
  if (charset == "ucs2" || charset == "utf16") return "UTF-16BE";
  if (charset == "utf32") return "UTF-32BE";
  std::string upper;
  for (const char c : charset)
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string to_utf8(std::string_view bytes, const std::string& charset) {
  if (charset.empty() || charset.starts_with("utf8") || charset == "ascii" || charset == "binary") {
    return std::string(bytes);
  }
  const auto name = iconv_name(charset);
  iconv_t raw = iconv_open("UTF-8", name.c_str());
  if (raw == reinterpret_cast<iconv_t>(-1)) {
    throw BinlogFormatError(fmt::format("character set {} cannot be converted to UTF-8", charset));
  }
  const std::unique_ptr<void, int (*)(iconv_t)> converter(raw, iconv_close);
  std::string in(bytes);
  std::string out(bytes.size() * 4 + 4, '\0');
  char* in_ptr = in.data();
  std::size_t in_left = in.size();
  char* out_ptr = out.data();
  std::size_t out_left = out.size();
  if (iconv(raw, &in_ptr, &in_left, &out_ptr, &out_left) == static_cast<std::size_t>(-1)) {
    throw BinlogFormatError(fmt::format("a {} value is not valid in its character set", charset));
  }
  out.resize(out.size() - out_left);
  return out;
}

std::string two_digits(unsigned value) {
  return fmt::format("{:02}", value);
}

// `.ffffff` cut to the column's precision (nothing for 0).
std::string fraction(std::uint64_t micros, int precision) {
  if (precision <= 0) return {};
  auto text = fmt::format("{:06}", micros);
  return "." + text.substr(0, static_cast<std::size_t>(std::min(precision, 6)));
}

// Microseconds stored after a TIMESTAMP2/DATETIME2 (big-endian, (precision + 1) / 2 bytes).
std::uint64_t fraction_micros(std::string_view& data, int precision) {
  switch ((precision + 1) / 2) {
    case 1:
      return big_endian(take(data, 1)) * 10000;
    case 2:
      return big_endian(take(data, 2)) * 100;
    case 3:
      return big_endian(take(data, 3));
    default:
      return 0;
  }
}

std::optional<std::string> date_text(unsigned year, unsigned month, unsigned day) {
  if (year == 0 || month == 0 || day == 0) return std::nullopt;  // MySQL's zero dates: NULL
  return fmt::format("{:04}-{}-{}", year, two_digits(month), two_digits(day));
}

// DECIMAL's binary form: groups of nine digits in four bytes, the leftover digits in the fewest
// bytes, the sign in the top bit of the first byte (set for positive) and every byte inverted
// for negative numbers.
std::string decimal_text(std::string_view& data, int precision, int scale) {
  static constexpr std::array<int, 10> kDigitBytes{0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  const int integer_digits = precision - scale;
  const int int_groups = integer_digits / 9, int_rest = integer_digits % 9;
  const int frac_groups = scale / 9, frac_rest = scale % 9;
  const int size = int_groups * 4 + kDigitBytes[static_cast<std::size_t>(int_rest)] +
                   frac_groups * 4 + kDigitBytes[static_cast<std::size_t>(frac_rest)];
  std::string bytes(take(data, static_cast<std::size_t>(size)));
  if (bytes.empty()) return "0";
  const bool negative = (static_cast<unsigned char>(bytes[0]) & 0x80) == 0;
  bytes[0] = static_cast<char>(bytes[0] ^ 0x80);
  if (negative) {
    for (char& c : bytes) c = static_cast<char>(~c);
  }
  std::string_view rest(bytes);
  std::string integer;
  if (int_rest > 0) {
    integer +=
        std::to_string(big_endian(take(rest, kDigitBytes[static_cast<std::size_t>(int_rest)])));
  }
  for (int i = 0; i < int_groups; ++i) integer += fmt::format("{:09}", big_endian(take(rest, 4)));
  const auto first = integer.find_first_not_of('0');
  integer = first == std::string::npos ? "0" : integer.substr(first);
  std::string frac;
  for (int i = 0; i < frac_groups; ++i) frac += fmt::format("{:09}", big_endian(take(rest, 4)));
  if (frac_rest > 0) {
    frac += fmt::format("{:0{}}",
                        big_endian(take(rest, kDigitBytes[static_cast<std::size_t>(frac_rest)])),
                        frac_rest);
  }
  std::string out = negative ? "-" + integer : integer;
  if (!frac.empty()) out += "." + frac;
  return out;
}

// TIME2: a signed packed value (hours, minutes, seconds, then 24 bits of microseconds) stored
// offset by 2^47 in 3 bytes plus (precision + 1) / 2 fraction bytes.
std::string time2_text(std::string_view& data, int precision) {
  std::int64_t packed = 0;
  const std::int64_t int_part = static_cast<std::int64_t>(big_endian(take(data, 3))) - 0x800000;
  switch ((precision + 1) / 2) {
    case 1: {
      std::int64_t frac = static_cast<std::int64_t>(big_endian(take(data, 1)));
      std::int64_t whole = int_part;
      if (whole < 0 && frac != 0) {
        ++whole;
        frac -= 0x100;
      }
      packed = (whole << 24) + frac * 10000;
      break;
    }
    case 2: {
      std::int64_t frac = static_cast<std::int64_t>(big_endian(take(data, 2)));
      std::int64_t whole = int_part;
      if (whole < 0 && frac != 0) {
        ++whole;
        frac -= 0x10000;
      }
      packed = (whole << 24) + frac * 100;
      break;
    }
    case 3: {
      const std::uint64_t frac = big_endian(take(data, 3));
      packed = (int_part << 24) + static_cast<std::int64_t>(frac);
      break;
    }
    default:
      packed = int_part << 24;
  }
  const bool negative = packed < 0;
  const auto magnitude = static_cast<std::uint64_t>(negative ? -packed : packed);
  const std::uint64_t hms = magnitude >> 24;
  const std::uint64_t micros = magnitude & 0xFFFFFF;
  return fmt::format("{}{:02}:{:02}:{:02}{}", negative ? "-" : "", (hms >> 12) & 0x3FF,
                     (hms >> 6) & 0x3F, hms & 0x3F, fraction(micros, precision));
}

std::optional<std::string> decode_value(std::string_view& data, const BinlogColumn& column) {
  const int meta = column.metadata;
  switch (column.type) {
    case kTiny:
      return integer_text(little_endian(take(data, 1)), 1, column.is_unsigned);
    case kShort:
      return integer_text(little_endian(take(data, 2)), 2, column.is_unsigned);
    case kInt24:
      return integer_text(little_endian(take(data, 3)), 3, column.is_unsigned);
    case kLong:
      return integer_text(little_endian(take(data, 4)), 4, column.is_unsigned);
    case kLongLong:
      return integer_text(little_endian(take(data, 8)), 8, column.is_unsigned);
    case kFloat:
      return fmt::format(
          "{}", std::bit_cast<float>(static_cast<std::uint32_t>(little_endian(take(data, 4)))));
    case kDouble:
      return fmt::format("{}", std::bit_cast<double>(little_endian(take(data, 8))));
    case kNewDecimal:
      return decimal_text(data, meta & 0xFF, meta >> 8);
    case kYear: {
      const auto year = little_endian(take(data, 1));
      return year == 0 ? std::string("0") : std::to_string(1900 + year);
    }
    case kDate:
    case kNewDate: {
      const auto value = little_endian(take(data, 3));
      return date_text(static_cast<unsigned>(value >> 9), static_cast<unsigned>((value >> 5) & 15),
                       static_cast<unsigned>(value & 31));
    }
    case kTimestamp: {
      const auto seconds = static_cast<std::int64_t>(little_endian(take(data, 4)));
      if (seconds == 0) return std::nullopt;  // the zero timestamp
      return fmt::format("{:%Y-%m-%d %H:%M:%S}",
                         std::chrono::sys_seconds(std::chrono::seconds(seconds)));
    }
    case kTimestamp2: {
      const auto seconds = static_cast<std::int64_t>(big_endian(take(data, 4)));
      const auto micros = fraction_micros(data, meta);
      if (seconds == 0 && micros == 0) return std::nullopt;  // the zero timestamp
      return fmt::format("{:%Y-%m-%d %H:%M:%S}",
                         std::chrono::sys_seconds(std::chrono::seconds(seconds))) +
             fraction(micros, meta);
    }
    case kDateTime: {
      auto value = little_endian(take(data, 8));  // YYYYMMDDhhmmss as a decimal number
      const auto second = value % 100, minute = (value / 100) % 100, hour = (value / 10000) % 100;
      value /= 1000000;
      const auto date =
          date_text(static_cast<unsigned>(value / 10000),
                    static_cast<unsigned>((value / 100) % 100), static_cast<unsigned>(value % 100));
      if (!date) return std::nullopt;
      return fmt::format("{} {:02}:{:02}:{:02}", *date, hour, minute, second);
    }
    case kDateTime2: {
      const std::uint64_t value = big_endian(take(data, 5)) - 0x8000000000ULL;
      const auto micros = fraction_micros(data, meta);
      const std::uint64_t ymd = value >> 17, hms = value & 0x1FFFF;
      const std::uint64_t year_month = ymd >> 5;
      const auto date =
          date_text(static_cast<unsigned>(year_month / 13), static_cast<unsigned>(year_month % 13),
                    static_cast<unsigned>(ymd & 31));
      if (!date) return std::nullopt;
      return fmt::format("{} {:02}:{:02}:{:02}", *date, hms >> 12, (hms >> 6) & 63, hms & 63) +
             fraction(micros, meta);
    }
    case kTime: {
      const auto raw = integer_text(little_endian(take(data, 3)), 3, false);
      const auto value = std::stoll(raw);  // -HHMMSS .. HHMMSS
      const auto magnitude = value < 0 ? -value : value;
      return fmt::format("{}{:02}:{:02}:{:02}", value < 0 ? "-" : "", magnitude / 10000,
                         (magnitude / 100) % 100, magnitude % 100);
    }
    case kTime2:
      return time2_text(data, meta);
    case kBit: {
      const std::size_t bytes =
          static_cast<std::size_t>((meta >> 8) + ((meta & 0xFF) != 0 ? 1 : 0));
      const auto value = take(data, bytes);
      if (column.encoding == ValueEncoding::kBitFlag) {
        return big_endian(value) != 0 ? std::string("t") : std::string("f");
      }
      return hex_bytes(value);
    }
    case kEnum:
    case kSet:
    case kString:
    case kVarchar:
    case kVarString: {
      if (column.is_enum || column.is_set) {
        const auto value = little_endian(take(data, static_cast<std::size_t>(meta)));
        if (column.is_enum) {
          if (value == 0 || value > column.labels.size()) return std::string();
          return column.labels[value - 1];
        }
        std::string out;
        for (std::size_t i = 0; i < column.labels.size() && i < 64; ++i) {
          if ((value >> i) & 1) {
            if (!out.empty()) out += ',';
            out += column.labels[i];
          }
        }
        return out;
      }
      const std::size_t length_bytes = meta > 255 ? 2 : 1;
      const auto length = static_cast<std::size_t>(little_endian(take(data, length_bytes)));
      const auto bytes = take(data, length);
      if (column.encoding == ValueEncoding::kBytes) {
        // BINARY(n) is logged without its trailing zero bytes; the column's value has them.
        if (column.type == kString && bytes.size() < static_cast<std::size_t>(meta)) {
          std::string padded(bytes);
          padded.resize(static_cast<std::size_t>(meta), '\0');
          return hex_bytes(padded);
        }
        return hex_bytes(bytes);
      }
      return to_utf8(bytes, column.charset);
    }
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kBlob:
    case kGeometry:
    case kJson: {
      const auto length =
          static_cast<std::size_t>(little_endian(take(data, static_cast<std::size_t>(meta))));
      const auto bytes = take(data, length);
      if (column.encoding == ValueEncoding::kBytes) return hex_bytes(bytes);
      return to_utf8(bytes, column.charset);
    }
    case kNull:
      return std::nullopt;
    default:
      throw BinlogFormatError(
          fmt::format("column type {} is not supported in row images", column.type));
  }
}

}  // namespace

void read_table_map_metadata(std::string_view types, std::string_view metadata,
                             std::vector<BinlogColumn>& columns) {
  if (types.size() != columns.size()) {
    throw BinlogFormatError(
        fmt::format("the table map has {} columns, the catalog {}", types.size(), columns.size()));
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    auto& column = columns[i];
    column.type = static_cast<std::uint8_t>(types[i]);
    switch (column.type) {
      case kFloat:
      case kDouble:
      case kTinyBlob:
      case kMediumBlob:
      case kLongBlob:
      case kBlob:
      case kGeometry:
      case kJson:
      case kTimestamp2:
      case kDateTime2:
      case kTime2:
        column.metadata = static_cast<std::uint16_t>(little_endian(take(metadata, 1)));
        break;
      case kVarchar:
      case kVarString:
        column.metadata = static_cast<std::uint16_t>(little_endian(take(metadata, 2)));
        break;
      case kBit:
      case kNewDecimal: {
        // Two bytes in order: (bits % 8, bytes) for BIT, (precision, scale) for DECIMAL.
        const auto bytes = take(metadata, 2);
        column.metadata = static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[0]) |
                                                     (static_cast<unsigned char>(bytes[1]) << 8));
        break;
      }
      case kString:
      case kEnum:
      case kSet: {
        // (real type, length); a long CHAR keeps two length bits in the real type's byte.
        const auto bytes = take(metadata, 2);
        unsigned real = static_cast<unsigned char>(bytes[0]);
        unsigned length = static_cast<unsigned char>(bytes[1]);
        if ((real & 0x30) != 0x30) {
          length |= ((real & 0x30) ^ 0x30) << 4;
          real |= 0x30;
        }
        column.is_enum = real == kEnum;
        column.is_set = real == kSet;
        column.metadata = static_cast<std::uint16_t>(length);
        break;
      }
      default:
        column.metadata = 0;
    }
  }
}

pgoutput::Tuple decode_row(std::string_view& data, const std::vector<BinlogColumn>& columns,
                           const std::vector<bool>& present) {
  std::size_t present_count = 0;
  for (std::size_t i = 0; i < columns.size(); ++i) present_count += present[i] ? 1 : 0;
  const auto nulls = take(data, (present_count + 7) / 8);
  pgoutput::Tuple tuple(columns.size());
  std::size_t bit = 0;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (!present[i]) continue;
    const bool is_null = (static_cast<unsigned char>(nulls[bit / 8]) >> (bit % 8)) & 1;
    ++bit;
    if (is_null) continue;
    auto value = decode_value(data, columns[i]);
    if (value) tuple[i] = pgoutput::TupleValue{pgoutput::ValueKind::kText, std::move(*value)};
  }
  return tuple;
}

std::vector<std::string> parse_labels(std::string_view column_type) {
  std::vector<std::string> labels;
  const auto open = column_type.find('(');
  if (open == std::string_view::npos) return labels;
  std::size_t i = open + 1;
  while (i < column_type.size() && column_type[i] == '\'') {
    std::string label;
    ++i;
    for (; i < column_type.size(); ++i) {
      if (column_type[i] == '\'') {
        if (i + 1 < column_type.size() && column_type[i + 1] == '\'') {
          label += '\'';
          ++i;
          continue;
        }
        break;
      }
      label += column_type[i];
    }
    labels.push_back(std::move(label));
    i += 1;  // the closing quote
    if (i < column_type.size() && column_type[i] == ',') ++i;
  }
  return labels;
}

Lsn pack_position(std::uint32_t file_number, std::uint32_t offset) {
  return (static_cast<Lsn>(file_number) << 32) | offset;
}
std::uint32_t position_file(Lsn position) {
  return static_cast<std::uint32_t>(position >> 32);
}
std::uint32_t position_offset(Lsn position) {
  return static_cast<std::uint32_t>(position & 0xFFFFFFFFU);
}

std::optional<std::uint32_t> binlog_file_number(std::string_view file_name) {
  const auto dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= file_name.size()) return std::nullopt;
  std::uint32_t number = 0;
  const auto digits = file_name.substr(dot + 1);
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return number;
}

std::optional<Lsn> parse_binlog_position(std::string_view text, std::string* basename) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto file = text.substr(0, colon);
  const auto number = binlog_file_number(file);
  const auto digits = text.substr(colon + 1);
  std::uint32_t offset = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (!number || digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  if (file.find_first_of("/\\ ") != std::string_view::npos) return std::nullopt;
  if (basename) *basename = std::string(file.substr(0, file.rfind('.')));
  return pack_position(*number, offset);
}

std::optional<Lsn> parse_start_position(std::string_view text) {
  if (auto position = parse_binlog_position(text)) return position;
  if (text.starts_with("checkpoint:")) return parse_recovery_checkpoint(text);
  return std::nullopt;
}

std::string format_binlog_position(std::string_view basename, Lsn position) {
  return fmt::format("{}.{:06}:{}", basename, position_file(position), position_offset(position));
}

}  // namespace dagster_dms::replicate::mysql
