#include "server/dms_api/filters.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "server/dms_api/identifiers.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

void validate_filters(const std::optional<std::vector<dms::Filter>>& filters,
                      const FilterSpec& spec) {
  if (!filters) return;
  for (const auto& filter : *filters) {
    if (std::find(spec.supported_names.begin(), spec.supported_names.end(), filter.name) ==
        spec.supported_names.end()) {
      std::string supported;
      for (const auto name : spec.supported_names) {
        if (!supported.empty()) supported += ", ";
        supported += name;
      }
      throw invalid_parameter(fmt::format(
          "The filter name {} is not valid. Valid filter names: {}.", filter.name, supported));
    }
    if (filter.values.empty()) {
      throw invalid_parameter(fmt::format("The filter {} needs at least one value.", filter.name));
    }
  }
}

bool matches_filters(const std::optional<std::vector<dms::Filter>>& filters, const FilterSpec& spec,
                     const std::function<std::vector<std::string>(std::string_view)>& values_of) {
  if (!filters) return true;
  for (const auto& filter : *filters) {
    const bool fold =
        std::find(spec.case_insensitive_names.begin(), spec.case_insensitive_names.end(),
                  filter.name) != spec.case_insensitive_names.end();
    const auto have = values_of(filter.name);
    const bool any = std::any_of(filter.values.begin(), filter.values.end(), [&](const auto& want) {
      return std::any_of(have.begin(), have.end(), [&](const auto& value) {
        return fold ? to_lower(value) == to_lower(want) : value == want;
      });
    });
    if (!any) return false;
  }
  return true;
}

}  // namespace dagster_dms::server
