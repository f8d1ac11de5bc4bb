#include "filter_options.hpp"

#include <stdexcept>
#include <string_view>

#include "diagnostics.hpp"
#include "exit_codes.hpp"

namespace dagster_dms::dmsctl {
namespace {

// The core names its fields as the YAML does; on the command line the options are what a user
// typed, so the message names those instead.
std::string with_option_names(std::string message) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"filter_by_name_pattern", "--name-pattern"},
      {"exclude_name_pattern", "--exclude-pattern"},
      {"filter_by_tags", "--tag"},
  };
  for (const auto& [field, option] : kNames) {
    if (message.starts_with(field)) return std::string(option) + message.substr(field.size());
  }
  return message;
}

}  // namespace

void add_filter_options(CLI::App& command, FilterOptions& options) {
  command.add_option("--name-pattern", options.name_pattern,
                     "Keep resources whose identifier matches this regular expression (RE2, "
                     "search semantics)");
  command.add_option("--exclude-pattern", options.exclude_pattern,
                     "Drop resources whose identifier matches this regular expression");
  command
      .add_option("--tag", options.tags,
                  "Keep resources with this tag (KEY or KEY=VALUE; repeat for more; needs "
                  "dms:ListTagsForResource)")
      ->allow_extra_args(false);
}

orchestrate::ResourceFilter build_filter(const FilterOptions& options) {
  std::vector<orchestrate::TagRequirement> requirements;
  try {
    for (const auto& text : options.tags) {
      auto parsed = orchestrate::parse_tag_filter(text);
      if (parsed.empty())
        throw UsageError("--tag: '" + text + "' names no tag; write KEY or KEY=VALUE");
      requirements.insert(requirements.end(), parsed.begin(), parsed.end());
    }
    orchestrate::ResourceFilter filter(options.name_pattern, options.exclude_pattern,
                                       std::move(requirements));
    if (options.name_pattern) {
      if (auto warning =
              orchestrate::identifier_pattern_warning("--name-pattern", *options.name_pattern)) {
        warn(*warning);
      }
    }
    if (options.exclude_pattern) {
      if (auto warning = orchestrate::identifier_pattern_warning("--exclude-pattern",
                                                                 *options.exclude_pattern)) {
        warn(*warning);
      }
    }
    return filter;
  } catch (const std::invalid_argument& e) {
    throw UsageError(with_option_names(e.what()));
  }
}

bool has_tag_filter(const FilterOptions& options) {
  return !options.tags.empty();
}

nlohmann::json tags_json(const orchestrate::Tags& tags) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, value] : tags) out.push_back({{"Key", key}, {"Value", value}});
  return out;
}

std::string tags_cell(const orchestrate::Tags& tags) {
  std::string out;
  for (const auto& [key, value] : tags) {
    if (!out.empty()) out += ',';
    out += value.empty() ? key : key + "=" + value;
  }
  return out.empty() ? "-" : out;
}

}  // namespace dagster_dms::dmsctl
