#pragma once

#include "aws/clock.hpp"
#include "server/runtime/logger.hpp"
#include "server/telemetry/log_store.hpp"
#include "server/telemetry/metrics_publisher.hpp"
#include "server/telemetry/task_telemetry.hpp"

namespace dagster_dms::server {

// The TaskTelemetry dms-local runs with: log lines are formatted as DMS writes them and stored
// in the task's log stream; counters and gauges feed the metrics publisher.
class TelemetryHub final : public TaskTelemetry {
 public:
  TelemetryHub(LogStore& logs, MetricsPublisher& metrics, const aws::Clock& clock,
               Logger* logger = nullptr)
      : logs_(logs), metrics_(metrics), clock_(clock), logger_(logger) {}

  void log(const TaskTelemetryIdentity& task, char severity, std::string_view component,
           std::string_view message) override;
  void full_load_totals(const TaskTelemetryIdentity& task, std::int64_t rows,
                        std::uint64_t bytes) override {
    metrics_.task_totals(task, rows, bytes);
  }
  void gauge(const TaskTelemetryIdentity& task, std::string_view metric_name, std::string_view unit,
             double value) override {
    metrics_.task_gauge(task, metric_name, unit, value);
  }
  void run_ended(const TaskTelemetryIdentity& task) override { metrics_.task_ended(task); }

 private:
  LogStore& logs_;
  MetricsPublisher& metrics_;
  const aws::Clock& clock_;
  Logger* logger_;
};

}  // namespace dagster_dms::server
