#include "server/telemetry/log_filter_pattern.hpp"

#include <algorithm>
#include <stdexcept>

namespace dagster_dms::server {

LogFilterPattern LogFilterPattern::parse(std::string_view pattern) {
  LogFilterPattern out;
  std::size_t i = 0;
  const auto skip_spaces = [&] {
    while (i < pattern.size() && pattern[i] == ' ') ++i;
  };
  skip_spaces();
  if (i < pattern.size() && (pattern[i] == '{' || pattern[i] == '[' || pattern[i] == '%')) {
    throw std::invalid_argument(
        "dms-local supports only term filter patterns (words, \"quoted phrases\", ?either and "
        "-excluded terms); JSON, space-delimited and regular-expression patterns are not "
        "supported.");
  }
  while (i < pattern.size()) {
    char kind = ' ';
    if (pattern[i] == '?' || pattern[i] == '-') kind = pattern[i++];
    std::string term;
    if (i < pattern.size() && pattern[i] == '"') {
      const auto close = pattern.find('"', i + 1);
      if (close == std::string_view::npos) {
        throw std::invalid_argument("Invalid filter pattern: a quoted term is not closed.");
      }
      term = std::string(pattern.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      const auto end = std::min(pattern.find(' ', i), pattern.size());
      term = std::string(pattern.substr(i, end - i));
      i = end;
    }
    if (!term.empty()) {
      auto& into = kind == '?' ? out.any_ : kind == '-' ? out.none_ : out.all_;
      into.push_back(std::move(term));
    }
    skip_spaces();
  }
  return out;
}

bool LogFilterPattern::matches(std::string_view message) const {
  const auto has = [&](const std::string& term) {
    return message.find(term) != std::string_view::npos;
  };
  if (!std::all_of(all_.begin(), all_.end(), has)) return false;
  if (!any_.empty() && !std::any_of(any_.begin(), any_.end(), has)) return false;
  return std::none_of(none_.begin(), none_.end(), has);
}

}  // namespace dagster_dms::server
