#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dagster_dms::server {

// One stored datapoint of a metric: what was published, when (epoch milliseconds).
struct MetricSample {
  std::int64_t timestamp_ms = 0;
  double value = 0;
};

// The statistics dms-local computes. Percentiles and the other extended statistics are not
// computed; asking for them is an InvalidParameterValue naming what is supported.
enum class Statistic { kAverage, kSum, kMinimum, kMaximum, kSampleCount };
std::optional<Statistic> parse_statistic(std::string_view name);
std::string_view statistic_name(Statistic statistic);

// The samples that fall in one period.
struct MetricBucket {
  std::int64_t start_ms = 0;
  double sum = 0;
  double minimum = 0;
  double maximum = 0;
  std::int64_t count = 0;
  [[nodiscard]] double value(Statistic statistic) const;
};

// Groups samples into periods aligned to multiples of `period_seconds` since the epoch (as
// CloudWatch aligns minute data to the minute), ascending by start. Empty periods are left out,
// as CloudWatch leaves them out. `samples` need not be sorted.
std::vector<MetricBucket> aggregate(const std::vector<MetricSample>& samples,
                                    std::int64_t period_seconds);

// CloudWatch's rule for Period: 1, 5, 10, 20 or 30 (high resolution) or a multiple of 60.
// Returns AWS's complaint, or nullopt when valid.
std::optional<std::string> period_problem(std::int64_t period_seconds, std::string_view parameter);

}  // namespace dagster_dms::server
