#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dms/cloudwatch_client.hpp"

namespace dagster_dms::orchestrate {

// A replication task whose CloudWatch metrics are read: DMS publishes them with the instance's
// identifier and the task ARN's resource id as dimensions.
struct MetricTask {
  std::string arn;
  std::string instance_identifier;
  std::string resource_id;
};

// Where a CDC task stands, as CloudWatch tells it (ReplicationTaskStats has no latency).
inline constexpr std::string_view kCdcLatencySource = "CDCLatencySource";
inline constexpr std::string_view kCdcLatencyTarget = "CDCLatencyTarget";
// Changes waiting to be applied. Throughput is left out: it moves with every write.
inline constexpr std::string_view kCdcIncomingChanges = "CDCIncomingChanges";

struct CdcMetrics {
  // Latest Average of each metric with data, by metric name.
  std::map<std::string, double> latest;
  bool has_latency() const {
    return latest.contains(std::string(kCdcLatencySource)) ||
           latest.contains(std::string(kCdcLatencyTarget));
  }
};

// The latest CDC latency and incoming-changes values of every task, by task ARN, in batched
// GetMetricData calls (see read_metrics for the least-privilege fallback; its notes are appended
// to `notes`). Periods: 60 s on AWS (DMS publishes once a minute); 1, 5, 10, 20 or 30 s against
// a local service that publishes more often. The lookback is 15 periods and at least 2 minutes.
std::map<std::string, CdcMetrics> latest_cdc_metrics(dms::CloudWatchClient& client,
                                                     const std::vector<MetricTask>& tasks,
                                                     int period_seconds,
                                                     std::vector<std::string>& notes);

// Whether CloudWatch accepts `seconds` as a period for these metrics.
bool valid_metrics_period(int seconds);

}  // namespace dagster_dms::orchestrate
