#include "mapping/wildcard.hpp"

#include <cstddef>

namespace dagster_dms::mapping {
namespace {

// Matches a bracket class at pattern[p] (which is '[') against c; sets `end` past the ']'.
// An unterminated '[' is a literal character, so a stray bracket in a name still matches itself.
bool match_class(std::string_view pattern, std::size_t p, char c, std::size_t& end, bool& valid) {
  const std::size_t close = pattern.find(']', p + 2);
  if (close == std::string_view::npos) {
    valid = false;
    end = p + 1;
    return c == '[';
  }
  valid = true;
  end = close + 1;
  for (std::size_t i = p + 1; i < close; ++i) {
    if (i + 2 < close && pattern[i + 1] == '-') {
      if (c >= pattern[i] && c <= pattern[i + 2]) return true;
      i += 2;
    } else if (pattern[i] == c) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point for the last `%` (linear in practice).
  std::size_t p = 0, t = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '_') {
        ++p;
        ++t;
        continue;
      }
      if (pattern[p] == '[') {
        std::size_t end = 0;
        bool valid = false;
        if (match_class(pattern, p, text[t], end, valid)) {
          p = end;
          ++t;
          continue;
        }
      } else if (pattern[p] == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

bool has_wildcard(std::string_view pattern) {
  return pattern.find_first_of("%_[") != std::string_view::npos;
}

bool names_unlisted_tables(std::string_view pattern) {
  return pattern.find_first_of("%[") != std::string_view::npos;
}

}  // namespace dagster_dms::mapping
