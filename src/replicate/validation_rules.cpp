#include "replicate/validation_rules.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace dagster_dms::replicate {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// A numeric's text as one spelling per value: no sign on zero, no leading zeros in the integer
// part, no trailing zeros in the fraction ("-000.500" -> "-0.5", "1.0" -> "1").
std::string canonical_numeric(std::string_view text) {
  std::string sign;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    if (text.front() == '-') sign = "-";
    text.remove_prefix(1);
  }
  const auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction =
      dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (whole.empty()) whole = "0";
  std::string out(whole);
  if (!fraction.empty()) out += "." + std::string(fraction);
  if (out == "0") return out;
  return sign + out;
}

std::optional<double> parse_double(const std::string& text) {
  if (text == "NaN") return std::nan("");
  if (text == "Infinity") return HUGE_VAL;
  if (text == "-Infinity") return -HUGE_VAL;
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

bool same_float(const std::string& source, const std::string& target, double relative) {
  const auto a = parse_double(source);
  const auto b = parse_double(target);
  if (!a || !b) return source == target;
  if (std::isnan(*a) || std::isnan(*b)) return std::isnan(*a) && std::isnan(*b);
  if (std::isinf(*a) || std::isinf(*b)) return *a == *b;
  return std::fabs(*a - *b) <= relative * std::max(std::fabs(*a), std::fabs(*b));
}

// A timestamp or time split around its fractional seconds: "2024-01-02 03:04:05.678+01" ->
// {"2024-01-02 03:04:05", "678", "+01"}.
struct TimeParts {
  std::string_view head, fraction, tail;
};

TimeParts split_time(std::string_view text) {
  // PostgreSQL's ISO output has no other '.' than the one before the fractional seconds.
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return {text, {}, {}};
  auto end = dot + 1;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])) != 0) ++end;
  return {text.substr(0, dot), text.substr(dot + 1, end - dot - 1), text.substr(end)};
}

// Rounds a string of fraction digits to `digits` places, half up; false when rounding carries
// into the whole seconds (the caller then compares the spellings as they are).
bool round_fraction(std::string fraction, std::size_t digits, std::string& out) {
  if (fraction.size() <= digits) {
    out = fraction;
    return true;
  }
  const bool up = fraction[digits] >= '5';
  fraction.resize(digits);
  if (up) {
    auto i = fraction.size();
    while (i > 0) {
      --i;
      if (fraction[i] == '9') {
        fraction[i] = '0';
        continue;
      }
      ++fraction[i];
      out = fraction;
      return true;
    }
    return false;
  }
  out = fraction;
  return true;
}

// Equal instants, allowing the target to keep fewer fractional digits than the source (a
// timestamp(6) source loaded into a timestamp(3) column, which PostgreSQL rounds).
bool same_time(const std::string& source, const std::string& target) {
  if (source == target) return true;
  const auto a = split_time(source);
  const auto b = split_time(target);
  if (a.head != b.head || a.tail != b.tail) return false;
  auto trim = [](std::string_view digits) {
    while (!digits.empty() && digits.back() == '0') digits.remove_suffix(1);
    return std::string(digits);
  };
  const auto fa = trim(a.fraction);
  const auto fb = trim(b.fraction);
  if (fa.size() <= fb.size()) return fa == fb;
  std::string rounded;
  return round_fraction(fa, fb.size(), rounded) && trim(rounded) == fb;
}

std::string key_text(const std::vector<std::string>& key) {
  std::string out;
  for (const auto& part : key) {
    out += std::to_string(part.size());
    out += ':';
    out += part;
  }
  return out;
}

std::string differing_columns(const std::vector<ComparedColumn>& columns,
                              const ValidationRow& source, const ValidationRow& target) {
  nlohmann::json source_values = nlohmann::json::object();
  nlohmann::json target_values = nlohmann::json::object();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto& a = i < source.values.size() ? source.values[i] : std::nullopt;
    const auto& b = i < target.values.size() ? target.values[i] : std::nullopt;
    if (same_value(columns[i].how, a, b)) continue;
    source_values[columns[i].name] = a ? nlohmann::json(*a) : nlohmann::json(nullptr);
    target_values[columns[i].name] = b ? nlohmann::json(*b) : nlohmann::json(nullptr);
  }
  if (source_values.empty()) return {};
  return nlohmann::json{{"source", source_values}, {"target", target_values}}.dump();
}

}  // namespace

CompareAs compare_as(std::string_view type) {
  if (starts_with(type, "numeric") || starts_with(type, "decimal")) return CompareAs::kNumeric;
  if (type == "real") return CompareAs::kReal;
  if (type == "double precision") return CompareAs::kDouble;
  if (starts_with(type, "timestamp") || starts_with(type, "time")) return CompareAs::kTimestamp;
  return CompareAs::kText;
}

bool same_value(CompareAs how, const std::optional<std::string>& source,
                const std::optional<std::string>& target) {
  if (!source || !target) return !source && !target;
  switch (how) {
    case CompareAs::kText:
      return *source == *target;
    case CompareAs::kNumeric:
      return canonical_numeric(*source) == canonical_numeric(*target);
    case CompareAs::kReal:
      // A real keeps about 6 significant digits.
      return same_float(*source, *target, 1e-6);
    case CompareAs::kDouble:
      return same_float(*source, *target, 1e-15);
    case CompareAs::kTimestamp:
      return same_time(*source, *target);
  }
  return *source == *target;
}

std::vector<RowFailure> compare_partition(const std::vector<ComparedColumn>& columns,
                                          const std::vector<ValidationRow>& source,
                                          const std::vector<ValidationRow>& target) {
  std::unordered_map<std::string, std::size_t> target_by_key;
  target_by_key.reserve(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) target_by_key.emplace(key_text(target[i].key), i);
  std::vector<bool> matched(target.size(), false);
  std::vector<RowFailure> failures;
  for (const auto& row : source) {
    const auto found = target_by_key.find(key_text(row.key));
    if (found == target_by_key.end()) {
      failures.push_back({FailureType::kMissingTarget, row.key, {}});
      continue;
    }
    matched[found->second] = true;
    auto details = differing_columns(columns, row, target[found->second]);
    if (!details.empty())
      failures.push_back({FailureType::kRecordDiff, row.key, std::move(details)});
  }
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (!matched[i]) failures.push_back({FailureType::kMissingSource, target[i].key, {}});
  }
  return failures;
}

std::string failure_key_json(const std::vector<std::string>& key) {
  // DMS's spelling, with a space after each separator.
  std::string out = "{\"key\": [";
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (i > 0) out += ", ";
    out += nlohmann::json(key[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return out + "]}";
}

}  // namespace dagster_dms::replicate
