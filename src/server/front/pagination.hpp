#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dagster_dms::server {

// MaxRecords bounds of one Describe operation (DMS: 20-100, default 100; table statistics
// 20-500, default 100).
struct PageBounds {
  std::int64_t min = 20;
  std::int64_t max = 100;
  std::int64_t fallback = 100;
};

// Which slice of a sorted listing one page holds.
struct PageWindow {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::optional<std::string> next_marker;
};

// `keys` are the sort keys of the whole (already filtered) listing, ascending and unique. The
// marker is the key of the first item of the next page, so a page boundary survives deletions
// and insertions between calls (an offset would skip or repeat items).
// Throws InvalidParameterValueException for a MaxRecords outside the bounds.
PageWindow page_window(const std::vector<std::string>& keys,
                       const std::optional<std::int64_t>& max_records,
                       const std::optional<std::string>& marker, const PageBounds& bounds);

}  // namespace dagster_dms::server
