#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/store/sqlite_db.hpp"
#include "server/telemetry/metric_aggregation.hpp"

namespace dagster_dms::server {

// A metric's identity as CloudWatch has it: namespace, name and the exact set of dimensions
// (a query must name all of them to match, as in CloudWatch).
struct MetricKey {
  std::string namespace_;
  std::string metric_name;
  std::vector<std::pair<std::string, std::string>> dimensions;  // kept sorted by name

  void sort_dimensions();
  friend bool operator==(const MetricKey&, const MetricKey&) = default;
};

// One published datapoint.
struct MetricDatum {
  MetricKey key;
  std::string unit;  // a CloudWatch StandardUnit: Count/Second, Kilobytes/Second, Percent, Bytes
  std::int64_t timestamp_ms = 0;
  double value = 0;
};

struct MetricSeries {
  std::vector<MetricSample> samples;  // ascending by time
  std::string unit;                   // of the latest sample; empty when there is none
};

// The published datapoints, in the state file (table metric_datapoints), per account and region.
// Thread-safe.
class MetricsStore {
 public:
  explicit MetricsStore(SqliteDb& db);

  void put(const std::string& account, const std::string& region,
           const std::vector<MetricDatum>& data);
  // Samples with from_ms <= timestamp < to_ms.
  [[nodiscard]] MetricSeries series(const std::string& account, const std::string& region,
                                    const MetricKey& key, std::int64_t from_ms,
                                    std::int64_t to_ms) const;
  // Every metric with a datapoint at or after since_ms, ordered by namespace, name, dimensions.
  [[nodiscard]] std::vector<MetricKey> metrics(const std::string& account,
                                               const std::string& region,
                                               std::int64_t since_ms) const;
  // Drops datapoints older than `before_ms`; returns how many went.
  std::int64_t prune(std::int64_t before_ms);

 private:
  SqliteDb& db_;
};

}  // namespace dagster_dms::server
