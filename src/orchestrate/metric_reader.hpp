#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dms/cloudwatch_client.hpp"

namespace dagster_dms::orchestrate {

// DMS publishes its metrics in this CloudWatch namespace.
inline constexpr const char* kDmsMetricsNamespace = "AWS/DMS";

// One metric of one resource.
struct MetricQuery {
  std::string id;      // the caller's name for the answer
  std::string metric;  // CDCLatencySource, CPUUtilization...
  std::vector<dms::cloudwatch::Dimension> dimensions;
};

struct MetricSeries {
  std::string id;
  std::vector<std::pair<dms::Timestamp, double>> points;  // oldest first
};

struct MetricReading {
  std::vector<MetricSeries> series;  // one per query, in the queries' order
  // The call that answered: GetMetricData, GetMetricStatistics, or empty when neither was
  // allowed.
  std::string source;
  // What a user should be told: a permission that was missing and what it cost.
  std::vector<std::string> notes;
};

// Reads `statistic` per `period_seconds` of every query between `start` and `end`.
//
// Least privilege is the norm: the batched GetMetricData (one call per 500 queries) is tried
// first; without cloudwatch:GetMetricData each metric is read with GetMetricStatistics (the
// baseline IAM list grants it), and without that either the reading is empty. Both cases leave a
// note naming the IAM action. Any other error is thrown.
MetricReading read_metrics(dms::CloudWatchClient& client, const std::vector<MetricQuery>& queries,
                           dms::Timestamp start, dms::Timestamp end, int period_seconds,
                           const std::string& statistic = "Average");

// The dimensions DMS publishes a task's metrics with.
std::vector<dms::cloudwatch::Dimension> task_metric_dimensions(const std::string& instance_id,
                                                               const std::string& task_id);

}  // namespace dagster_dms::orchestrate
