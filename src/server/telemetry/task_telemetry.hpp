#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dagster_dms::server {

struct TaskRun;

// Who a task run is, as its CloudWatch metrics and logs name it.
struct TaskTelemetryIdentity {
  std::string account;
  std::string region;
  std::string task_arn;
  std::string task_identifier;
  std::string task_resource_id;     // the ARN's last part: the ReplicationTaskIdentifier dimension
  std::string instance_identifier;  // the ReplicationInstanceIdentifier dimension
  bool serverless = false;          // the run is a serverless replication's (a config ARN)
  // Set only when the task's settings have Logging.EnableLogging true, as DMS writes CloudWatch
  // logs only then; the names come from Logging.CloudWatchLogGroup/CloudWatchLogStream.
  std::optional<std::string> log_group;
  std::optional<std::string> log_stream;
};

// Reads the identity from a run (its ARN, its settings' Logging section, its instance).
TaskTelemetryIdentity task_telemetry_identity(const TaskRun& run);

// The CloudWatch dimensions of a run's metrics, as DMS names them: a task's are
// ReplicationInstanceIdentifier and ReplicationTaskIdentifier; a serverless replication has no
// instance, and DMS publishes its metrics under ReplicationConfigId = "<account>:<the config
// ARN's resource id>" alone.
std::vector<std::pair<std::string, std::string>> metric_dimensions(
    const TaskTelemetryIdentity& task);

// Where a data plane sends what CloudWatch shows about a running task: log lines and the counters
// behind the task's metrics. Thread-safe; calls return promptly.
class TaskTelemetry {
 public:
  virtual ~TaskTelemetry() = default;
  // One task log line; `severity` is I, W or E. Dropped when the task's logging is off.
  virtual void log(const TaskTelemetryIdentity& task, char severity, std::string_view component,
                   std::string_view message) = 0;
  // Cumulative full-load totals of the current run; throughput metrics are their rates.
  virtual void full_load_totals(const TaskTelemetryIdentity& task, std::int64_t rows,
                                std::uint64_t bytes) = 0;
  // A task metric that is a level rather than a total (CDCLatencySource, CDCLatencyTarget,
  // CDCIncomingChanges...): published as given at every interval while the run lasts.
  virtual void gauge(const TaskTelemetryIdentity& task, std::string_view metric_name,
                     std::string_view unit, double value) = 0;
  // The run is over: its last counters are still published once, then it is forgotten.
  virtual void run_ended(const TaskTelemetryIdentity& task) = 0;
};

}  // namespace dagster_dms::server
