#include "dms/model/codec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace dagster_dms::dms {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

// The system clock counts nanoseconds in 64 bits: about 292 years either side of 1970. A time
// outside that range is garbage, not a time, and converting it would overflow.
constexpr double kMaxEpochSeconds = 9.2e9;

std::optional<Timestamp> from_epoch_seconds(double seconds) {
  if (!std::isfinite(seconds) || std::fabs(seconds) > kMaxEpochSeconds) return std::nullopt;
  const double micros = std::round(seconds * 1e6);
  return Timestamp{duration_cast<Timestamp::duration>(microseconds(static_cast<int64_t>(micros)))};
}

bool parse_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  const char* first = text.data() + pos;
  const char* last = first + count;
  if (!std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; })) return false;
  return std::from_chars(first, last, out).ec == std::errc{};
}

// ISO 8601 / RFC 3339: YYYY-MM-DD[T ]hh:mm:ss[.fraction][Z|+hh:mm|+hhmm|-hh:mm]; a bare date or a
// missing zone counts as UTC, the way AWS's own parsers treat it.
std::optional<Timestamp> parse_iso8601(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' ||
      !parse_digits(text, 5, 2, month) || text[7] != '-' || !parse_digits(text, 8, 2, day)) {
    return std::nullopt;
  }
  std::size_t pos = 10;
  long long fraction_micros = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
    if (!parse_digits(text, pos + 1, 2, hour) || text.size() < pos + 9 || text[pos + 3] != ':' ||
        !parse_digits(text, pos + 4, 2, minute) || text[pos + 6] != ':' ||
        !parse_digits(text, pos + 7, 2, second)) {
      return std::nullopt;
    }
    pos += 9;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      ++pos;
      int digits = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        if (digits < 6) fraction_micros = fraction_micros * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (int i = digits; i < 6; ++i) fraction_micros *= 10;
    }
  }
  int offset_minutes = 0;
  if (pos < text.size()) {
    const char sign = text[pos];
    if ((sign == 'Z' || sign == 'z') && pos + 1 == text.size()) {
      pos = text.size();
    } else if (sign == '+' || sign == '-') {
      int oh = 0, om = 0;
      if (!parse_digits(text, pos + 1, 2, oh)) return std::nullopt;
      std::size_t minutes_at = pos + 3;
      if (minutes_at < text.size() && text[minutes_at] == ':') ++minutes_at;
      if (!parse_digits(text, minutes_at, 2, om) || minutes_at + 2 != text.size()) {
        return std::nullopt;
      }
      offset_minutes = (oh * 60 + om) * (sign == '-' ? -1 : 1);
      pos = text.size();
    } else {
      return std::nullopt;
    }
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  // Days fit easily; only the conversion to the clock's nanoseconds could overflow.
  const auto days = std::chrono::sys_days{date}.time_since_epoch().count();
  if (std::fabs(static_cast<double>(days) * 86400.0) > kMaxEpochSeconds - 2 * 86400.0) {
    return std::nullopt;
  }
  const auto local = std::chrono::sys_days{date} + std::chrono::hours{hour} +
                     std::chrono::minutes{minute} + std::chrono::seconds{second} +
                     microseconds{fraction_micros};
  return Timestamp{duration_cast<Timestamp::duration>(
      (local - std::chrono::minutes{offset_minutes}).time_since_epoch())};
}

}  // namespace

std::optional<Timestamp> parse_timestamp(const nlohmann::json& value) {
  if (value.is_number()) return from_epoch_seconds(value.get<double>());
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  if (text.empty()) return std::nullopt;
  if (auto iso = parse_iso8601(text)) return iso;
  // A number sent as a string ("1481739943.123").
  char* end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (end == text.c_str() + text.size()) return from_epoch_seconds(seconds);
  return std::nullopt;
}

nlohmann::json timestamp_to_json(Timestamp value) {
  const auto micros = duration_cast<microseconds>(value.time_since_epoch()).count();
  if (micros % 1'000'000 == 0) return static_cast<int64_t>(micros / 1'000'000);
  return static_cast<double>(micros) / 1e6;
}

std::string format_iso8601(Timestamp value) {
  const auto micros = duration_cast<microseconds>(value.time_since_epoch());
  const auto days = std::chrono::floor<std::chrono::days>(micros);
  const std::chrono::year_month_day date{std::chrono::sys_days{days}};
  const std::chrono::hh_mm_ss<microseconds> time{micros - days};
  char buffer[48];
  const long long fraction = time.subseconds().count();
  int n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                        static_cast<int>(time.minutes().count()),
                        static_cast<int>(time.seconds().count()));
  std::string out(buffer, static_cast<std::size_t>(n));
  if (fraction != 0) {
    n = std::snprintf(buffer, sizeof buffer, ".%06lld", fraction);
    out.append(buffer, static_cast<std::size_t>(n));
  }
  out += 'Z';
  return out;
}

namespace detail {

std::string path_to_string(const Path* path) {
  std::vector<const Path*> frames;
  for (const Path* p = path; p != nullptr; p = p->parent) frames.push_back(p);
  if (frames.empty()) return "(document)";
  std::string out;
  for (auto it = frames.rbegin(); it != frames.rend(); ++it) {
    const Path& frame = **it;
    if (frame.key.empty()) {
      out += '[' + std::to_string(frame.index) + ']';
    } else {
      if (!out.empty()) out += '.';
      out += frame.key;
    }
  }
  return out;
}

namespace {
std::string_view json_kind(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}
}  // namespace

void throw_type_error(const Path* path, std::string_view expected, const nlohmann::json& got) {
  throw aws::ProtocolError("invalid value at " + path_to_string(path) + ": expected " +
                           std::string(expected) + ", got " + std::string(json_kind(got)));
}

void throw_missing(const Path* parent, std::string_view name) {
  const Path here{parent, name, 0};
  throw aws::ProtocolError("missing required member " + path_to_string(&here));
}

bool looks_secret(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("password") != std::string::npos || lower.find("secret") != std::string::npos;
}

void read_value(const nlohmann::json& j, std::string& out, const Path* path) {
  if (!j.is_string()) throw_type_error(path, "a string", j);
  out = j.get<std::string>();
}

void read_value(const nlohmann::json& j, std::int64_t& out, const Path* path) {
  if (j.is_number_integer()) {
    out = j.get<std::int64_t>();
    return;
  }
  if (j.is_number_unsigned()) {
    const auto value = j.get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw_type_error(path, "a 64-bit integer", j);
    }
    out = static_cast<std::int64_t>(value);
    return;
  }
  // Some servers serialize every number as a double; accept a whole one.
  if (j.is_number_float()) {
    const double value = j.get<double>();
    if (std::trunc(value) == value && std::fabs(value) < 9.2e18) {
      out = static_cast<std::int64_t>(value);
      return;
    }
  }
  throw_type_error(path, "an integer", j);
}

void read_value(const nlohmann::json& j, bool& out, const Path* path) {
  if (!j.is_boolean()) throw_type_error(path, "a boolean", j);
  out = j.get<bool>();
}

void read_value(const nlohmann::json& j, double& out, const Path* path) {
  if (j.is_number()) {
    out = j.get<double>();
    return;
  }
  // The JSON protocols send non-finite doubles as strings.
  if (j.is_string()) {
    const auto& text = j.get_ref<const std::string&>();
    if (text == "NaN") {
      out = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    if (text == "Infinity") {
      out = std::numeric_limits<double>::infinity();
      return;
    }
    if (text == "-Infinity") {
      out = -std::numeric_limits<double>::infinity();
      return;
    }
  }
  throw_type_error(path, "a number", j);
}

nlohmann::json write_value(double value, bool /*redact*/) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

void read_value(const nlohmann::json& j, Timestamp& out, const Path* path) {
  auto parsed = parse_timestamp(j);
  if (!parsed) throw_type_error(path, "a timestamp (epoch seconds or ISO 8601)", j);
  out = *parsed;
}

}  // namespace detail
}  // namespace dagster_dms::dms
