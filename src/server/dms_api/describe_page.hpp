#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dms/model/dms_model.hpp"
#include "server/dms_api/filters.hpp"
#include "server/front/pagination.hpp"
#include "server/store/store.hpp"

namespace dagster_dms::server {

// The listing members every Describe* request has.
struct DescribeRequest {
  std::optional<std::vector<dms::Filter>> filters;
  std::optional<std::int64_t> max_records;
  std::optional<std::string> marker;

  template <class Message>
  static DescribeRequest of(const Message& message) {
    return {message.filters, message.max_records, message.marker};
  }
};

// How one Describe* operation lists: its filters, what it answers when filters match nothing and
// its MaxRecords bounds.
struct DescribeRules {
  const FilterSpec& filters;
  // DMS answers ResourceNotFoundFault with this message when filters match nothing; empty: an
  // empty page instead.
  std::string_view none_found;
  PageBounds bounds{};
};

// Which of `count` listed items one page holds (by index, in listing order).
struct DescribePageIndices {
  std::vector<std::size_t> indices;
  std::optional<std::string> next_marker;
};

// Validates the filters, keeps the items `values_of(i)` matches, answers the not-found fault,
// and cuts the page by the items' sort keys (`key_of(i)`, ascending and unique).
DescribePageIndices describe_page_indices(
    std::size_t count, const DescribeRequest& request, const DescribeRules& rules,
    const std::function<std::vector<std::string>(std::size_t index, std::string_view filter)>&
        values_of,
    const std::function<std::string(std::size_t index)>& key_of);

// One Describe* page: `{list_member: [to_public(item)...], "Marker": ...}`.
template <class Item, class ValuesOf, class KeyOf, class ToPublic>
nlohmann::json describe_page(const std::vector<Item>& items, const DescribeRequest& request,
                             const DescribeRules& rules, const char* list_member,
                             const ValuesOf& values_of, const KeyOf& key_of,
                             const ToPublic& to_public) {
  const auto page = describe_page_indices(
      items.size(), request, rules,
      [&](std::size_t i, std::string_view filter) { return values_of(items[i], filter); },
      [&](std::size_t i) { return key_of(items[i], i); });
  nlohmann::json listed = nlohmann::json::array();
  for (const auto i : page.indices) listed.push_back(to_public(items[i]));
  nlohmann::json out = {{list_member, std::move(listed)}};
  if (page.next_marker) out["Marker"] = *page.next_marker;
  return out;
}

// A Describe* page of a listing that takes no filters (DescribeSchemas,
// DescribeReplicationInstanceTaskLogs): MaxRecords and Marker only.
extern const FilterSpec kNoFilters;
template <class Item, class KeyOf, class ToPublic>
nlohmann::json unfiltered_page(const std::vector<Item>& items,
                               const std::optional<std::int64_t>& max_records,
                               const std::optional<std::string>& marker, const char* list_member,
                               const KeyOf& key_of, const ToPublic& to_public) {
  return describe_page(
      items, DescribeRequest{std::nullopt, max_records, marker}, {kNoFilters, ""}, list_member,
      [](const Item& /*item*/, std::string_view /*filter*/) { return std::vector<std::string>{}; },
      key_of, to_public);
}

// Resources list and page by identifier (the store's listing order).
inline std::string identifier_key(const Record& record, std::size_t /*index*/) {
  return record.identifier;
}

// Table statistics pages (DescribeTableStatistics, DescribeReplicationTableStatistics): the
// stored per-table documents in stored order, filtered by schema-name, table-name and
// table-state, 20 to 500 per page.
nlohmann::json describe_table_statistics_page(const std::vector<nlohmann::json>& tables,
                                              const DescribeRequest& request,
                                              const char* list_member);
extern const FilterSpec kTableStatisticsFilters;

}  // namespace dagster_dms::server
