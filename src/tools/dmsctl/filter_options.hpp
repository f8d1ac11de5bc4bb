#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrate/discovery.hpp"
#include "orchestrate/resource_filter.hpp"

namespace dagster_dms::dmsctl {

// The name and tag filters the list commands share (the same filters the Dagster component's
// filter_by_name_pattern / exclude_name_pattern / filter_by_tags take).
struct FilterOptions {
  std::optional<std::string> name_pattern;
  std::optional<std::string> exclude_pattern;
  std::vector<std::string> tags;  // each KEY or KEY=VALUE (commas allowed)
};

void add_filter_options(CLI::App& command, FilterOptions& options);

// Compiles the filter. Throws UsageError naming the option for a bad pattern or tag; prints a
// warning on stderr for a pattern that can only match names DMS does not allow.
orchestrate::ResourceFilter build_filter(const FilterOptions& options);

// Whether a tag filter was given (tags are then read, so they are shown too).
bool has_tag_filter(const FilterOptions& options);

// Tags as the API lists them: [{"Key": ..., "Value": ...}], sorted by key.
nlohmann::json tags_json(const orchestrate::Tags& tags);
// Tags for a table cell: "env=prod,team=data".
std::string tags_cell(const orchestrate::Tags& tags);

}  // namespace dagster_dms::dmsctl
