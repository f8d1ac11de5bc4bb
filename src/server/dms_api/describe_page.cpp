#include "server/dms_api/describe_page.hpp"

#include <fmt/format.h>

#include "server/dms_api/control_plane.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

const FilterSpec kNoFilters{{}, {}};
const FilterSpec kTableStatisticsFilters{{"schema-name", "table-name", "table-state"}, {}};

DescribePageIndices describe_page_indices(
    std::size_t count, const DescribeRequest& request, const DescribeRules& rules,
    const std::function<std::vector<std::string>(std::size_t index, std::string_view filter)>&
        values_of,
    const std::function<std::string(std::size_t index)>& key_of) {
  validate_filters(request.filters, rules.filters);
  std::vector<std::size_t> matched;
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < count; ++i) {
    const bool match = matches_filters(request.filters, rules.filters,
                                       [&](std::string_view name) { return values_of(i, name); });
    if (!match) continue;
    matched.push_back(i);
    keys.push_back(key_of(i));
  }
  if (matched.empty() && has_filters(request.filters) && !rules.none_found.empty()) {
    throw not_found(std::string(rules.none_found));
  }
  const auto window = page_window(keys, request.max_records, request.marker, rules.bounds);
  DescribePageIndices page;
  page.indices.assign(matched.begin() + static_cast<std::ptrdiff_t>(window.begin),
                      matched.begin() + static_cast<std::ptrdiff_t>(window.end));
  page.next_marker = window.next_marker;
  return page;
}

nlohmann::json describe_table_statistics_page(const std::vector<nlohmann::json>& tables,
                                              const DescribeRequest& request,
                                              const char* list_member) {
  return describe_page(
      tables, request, {kTableStatisticsFilters, {}, {20, 500, 100}}, list_member,
      [](const nlohmann::json& table, std::string_view name) {
        if (name == "schema-name") return std::vector<std::string>{table.value("SchemaName", "")};
        if (name == "table-name") return std::vector<std::string>{table.value("TableName", "")};
        return std::vector<std::string>{table.value("TableState", "")};
      },
      // Stored order; zero-padded so it sorts.
      [](const nlohmann::json&, std::size_t index) { return fmt::format("{:08d}", index); },
      public_document<dms::TableStatistics>);
}

}  // namespace dagster_dms::server
