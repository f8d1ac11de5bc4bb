#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dms/model/dms_model.hpp"

namespace dagster_dms::server {

// Describe* filters as DMS applies them: every filter must match (AND), any of a filter's values
// may match (OR). `values_of(name)` gives the resource's values for a supported filter name.
struct FilterSpec {
  std::vector<std::string_view> supported_names;
  // Names whose values compare case-insensitively (endpoint-type: "source" matches "SOURCE").
  std::vector<std::string_view> case_insensitive_names;
};

// Throws InvalidParameterValueException for an unsupported name or a filter without values.
void validate_filters(const std::optional<std::vector<dms::Filter>>& filters,
                      const FilterSpec& spec);

bool matches_filters(const std::optional<std::vector<dms::Filter>>& filters, const FilterSpec& spec,
                     const std::function<std::vector<std::string>(std::string_view)>& values_of);

[[nodiscard]] inline bool has_filters(const std::optional<std::vector<dms::Filter>>& filters) {
  return filters && !filters->empty();
}

}  // namespace dagster_dms::server
