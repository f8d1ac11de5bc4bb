#include "server/front/pagination.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

PageWindow page_window(const std::vector<std::string>& keys,
                       const std::optional<std::int64_t>& max_records,
                       const std::optional<std::string>& marker, const PageBounds& bounds) {
  const std::int64_t size = max_records.value_or(bounds.fallback);
  if (size < bounds.min || size > bounds.max) {
    throw invalid_parameter(
        fmt::format("MaxRecords must be between {} and {}; got {}.", bounds.min, bounds.max, size));
  }
  PageWindow window;
  if (marker && !marker->empty()) {
    window.begin = static_cast<std::size_t>(std::lower_bound(keys.begin(), keys.end(), *marker) -
                                            keys.begin());
  }
  window.end = std::min(keys.size(), window.begin + static_cast<std::size_t>(size));
  if (window.end < keys.size()) window.next_marker = keys[window.end];
  return window;
}

}  // namespace dagster_dms::server
