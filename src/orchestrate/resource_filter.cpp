#include "orchestrate/resource_filter.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <stdexcept>

namespace dagster_dms::orchestrate {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::unique_ptr<re2::RE2> compile(const std::optional<std::string>& pattern,
                                  std::string_view field) {
  if (!pattern || pattern->empty()) return nullptr;
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto regex = std::make_unique<re2::RE2>(*pattern, options);
  if (!regex->ok()) {
    throw std::invalid_argument(fmt::format("{}: '{}' is not a valid regular expression: {}", field,
                                            *pattern, regex->error()));
  }
  return regex;
}

}  // namespace

std::vector<TagRequirement> parse_tag_filter(std::string_view text) {
  std::vector<TagRequirement> requirements;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) {
      // "env,,team" or a trailing comma is most likely a key left out: say so rather than guess.
      if (trim(text).empty()) break;
      throw std::invalid_argument(fmt::format(
          "filter_by_tags: '{}' has an empty item; write `env,team` or `env=prod,team`", text));
    }
    TagRequirement requirement;
    if (size_t eq = item.find('='); eq != std::string_view::npos) {
      requirement.key = std::string(trim(item.substr(0, eq)));
      requirement.value = std::string(trim(item.substr(eq + 1)));
    } else {
      requirement.key = std::string(item);
    }
    if (requirement.key.empty()) {
      throw std::invalid_argument(
          fmt::format("filter_by_tags: '{}' has no tag key; write KEY or KEY=VALUE", item));
    }
    requirements.push_back(std::move(requirement));
  }
  return requirements;
}

ResourceFilter::ResourceFilter(const std::optional<std::string>& include,
                               const std::optional<std::string>& exclude,
                               std::vector<TagRequirement> tags)
    : include_(compile(include, "filter_by_name_pattern")),
      exclude_(compile(exclude, "exclude_name_pattern")),
      tags_(std::move(tags)) {}

ResourceFilter::~ResourceFilter() = default;
ResourceFilter::ResourceFilter(ResourceFilter&&) noexcept = default;
ResourceFilter& ResourceFilter::operator=(ResourceFilter&&) noexcept = default;

bool ResourceFilter::matches_name(std::string_view identifier) const {
  if (include_ && !re2::RE2::PartialMatch(identifier, *include_)) return false;
  if (exclude_ && re2::RE2::PartialMatch(identifier, *exclude_)) return false;
  return true;
}

bool ResourceFilter::matches_tags(const std::map<std::string, std::string>& tags) const {
  for (const auto& requirement : tags_) {
    auto it = tags.find(requirement.key);
    if (it == tags.end()) return false;
    if (requirement.value && it->second != *requirement.value) return false;
  }
  return true;
}

std::optional<std::string> identifier_pattern_warning(std::string_view field,
                                                      std::string_view pattern) {
  // A literal character outside [A-Za-z0-9-] that every match must contain makes the pattern
  // unmatchable. RE2 reports the literal prefix a match must start with; for the common case of
  // an underscore anywhere outside a class or alternation, a textual check is both exact enough
  // and explainable.
  bool in_class = false;
  bool escaped = false;
  bool has_alternation = false;
  bool needs_underscore = false;
  for (char c : pattern) {
    if (escaped) {
      escaped = false;
      if (c == '_' && !in_class) needs_underscore = true;
      continue;
    }
    if (c == '\\') {
      escaped = true;
    } else if (c == '[') {
      in_class = true;
    } else if (c == ']') {
      in_class = false;
    } else if (c == '|' && !in_class) {
      has_alternation = true;
    } else if (c == '_' && !in_class) {
      needs_underscore = true;
    }
  }
  if (!needs_underscore || has_alternation) return std::nullopt;
  std::string suggestion(pattern);
  for (char& c : suggestion) {
    if (c == '_') c = '-';
  }
  return fmt::format(
      "{} '{}' can never match: DMS identifiers contain only letters, digits and hyphens, never "
      "'_'. Did you mean '{}'?",
      field, pattern, suggestion);
}

}  // namespace dagster_dms::orchestrate
