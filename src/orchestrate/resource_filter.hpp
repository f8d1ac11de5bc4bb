#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace dagster_dms::orchestrate {

// One `key` or `key=value` requirement from a tag filter such as "env,team=data".
struct TagRequirement {
  std::string key;
  std::optional<std::string> value;  // nullopt: the key must exist with any value
};

// Parses "env,team=data" (blanks around items ignored; an empty text is no requirement). Throws
// std::invalid_argument naming filter_by_tags and the bad item: an empty key or an empty item.
std::vector<TagRequirement> parse_tag_filter(std::string_view text);

// Which DMS resources to keep: a name must match `include` (search semantics, like Python's
// re.search) and must not match `exclude`; every tag requirement must hold.
class ResourceFilter {
 public:
  ResourceFilter() = default;
  // Throws std::invalid_argument naming the field ("filter_by_name_pattern" /
  // "exclude_name_pattern") and RE2's reason when a pattern does not compile.
  ResourceFilter(const std::optional<std::string>& include,
                 const std::optional<std::string>& exclude, std::vector<TagRequirement> tags);
  ~ResourceFilter();
  ResourceFilter(ResourceFilter&&) noexcept;
  ResourceFilter& operator=(ResourceFilter&&) noexcept;

  [[nodiscard]] bool matches_name(std::string_view identifier) const;
  [[nodiscard]] bool matches_tags(const std::map<std::string, std::string>& tags) const;
  [[nodiscard]] bool needs_tags() const { return !tags_.empty(); }
  [[nodiscard]] const std::vector<TagRequirement>& tag_requirements() const { return tags_; }

 private:
  std::unique_ptr<re2::RE2> include_;
  std::unique_ptr<re2::RE2> exclude_;
  std::vector<TagRequirement> tags_;
};

// DMS identifiers hold only letters, digits and hyphens. When `pattern` can only match a name with
// a character outside that alphabet (typically `_`, as in "^prod_.*"), returns a warning that says
// so and suggests the hyphen form; otherwise nullopt.
std::optional<std::string> identifier_pattern_warning(std::string_view field,
                                                      std::string_view pattern);

}  // namespace dagster_dms::orchestrate
