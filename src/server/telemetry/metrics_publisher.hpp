#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "aws/clock.hpp"
#include "server/runtime/logger.hpp"
#include "server/telemetry/host_metrics.hpp"
#include "server/telemetry/metrics_store.hpp"
#include "server/telemetry/task_telemetry.hpp"

namespace dagster_dms::server {

// A replication instance that gets instance metrics.
struct InstanceRef {
  std::string account;
  std::string region;
  std::string identifier;
};

struct MetricsPublisherOptions {
  // AWS publishes DMS metrics every 60 s; locally a finer default keeps tests and demos quick.
  // A GetMetricData with Period 60 aggregates the finer datapoints as CloudWatch would.
  std::chrono::milliseconds interval{5000};
  // Datapoints older than this are pruned from the state file.
  std::chrono::hours retention{24};
};

inline constexpr std::string_view kDmsNamespace = "AWS/DMS";

// Publishes the AWS/DMS metrics into the MetricsStore once per interval: instance metrics from
// the host, task metrics from what running tasks report. Task metrics go through task_totals
// (rates derived per interval) and task_gauge (levels), the one path CDC metrics will use too.
class MetricsPublisher {
 public:
  using InstanceLister = std::function<std::vector<InstanceRef>()>;

  MetricsPublisher(MetricsStore& store, HostSampler sampler, InstanceLister instances,
                   const aws::Clock& clock, MetricsPublisherOptions options,
                   Logger* logger = nullptr);
  ~MetricsPublisher();
  MetricsPublisher(const MetricsPublisher&) = delete;
  MetricsPublisher& operator=(const MetricsPublisher&) = delete;

  // Publishes on a background thread every interval until stop() (or destruction).
  void start();
  void stop();
  // One interval's datapoints, stamped with the clock's now (the thread calls it; tests too).
  void publish_once();

  void task_totals(const TaskTelemetryIdentity& task, std::int64_t rows, std::uint64_t bytes);
  void task_gauge(const TaskTelemetryIdentity& task, std::string_view metric_name,
                  std::string_view unit, double value);
  void task_ended(const TaskTelemetryIdentity& task);

 private:
  struct Gauge {
    std::string unit;
    double value = 0;
  };
  struct TaskState {
    TaskTelemetryIdentity identity;
    std::int64_t rows = 0;
    std::uint64_t bytes = 0;
    std::int64_t published_rows = 0;
    std::uint64_t published_bytes = 0;
    std::map<std::string, Gauge, std::less<>> gauges;
    bool ended = false;
  };

  TaskState& task_locked(const TaskTelemetryIdentity& task);

  MetricsStore& store_;
  HostSampler sampler_;
  InstanceLister instances_;
  const aws::Clock& clock_;
  MetricsPublisherOptions options_;
  Logger* logger_;
  std::mutex mutex_;                        // tasks_ and publishing (one interval at a time)
  std::map<std::string, TaskState> tasks_;  // by task ARN
  std::chrono::steady_clock::time_point last_prune_{};
  std::mutex wait_mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stops before the members it uses go away
};

}  // namespace dagster_dms::server
