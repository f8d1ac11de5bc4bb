#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dagster_dms::server {

// One query's answer in GetMetricData, already in ScanBy order.
struct MetricDataSeries {
  std::string id;
  std::string label;
  std::vector<std::int64_t> timestamps_ms;
  std::vector<double> values;
};

struct MetricDataPage {
  // Every query appears on every page (with the slice of its datapoints this page holds), so a
  // client merging pages by Id sees each query at least once.
  std::vector<MetricDataSeries> results;
  std::vector<bool> complete;  // StatusCode Complete; PartialData when a later page has more
  std::optional<std::string> next_token;
};

// Cuts the answers into pages of at most `max_datapoints` datapoints, counting through the
// queries in order. The token is the position of the next page's first datapoint, so the same
// request with the token continues where the last page stopped. Throws std::invalid_argument
// for a token this function did not make (InvalidNextToken for the caller).
MetricDataPage page_metric_data(const std::vector<MetricDataSeries>& all,
                                std::size_t max_datapoints,
                                const std::optional<std::string>& next_token);

}  // namespace dagster_dms::server
