#include "server/execution/run_end.hpp"

#include <fmt/format.h>

namespace dagster_dms::server {

namespace {

std::string log_line(const RunEnd& end, const std::string& task_id) {
  switch (end.kind) {
    case RunEnd::Kind::kFinished:
      return fmt::format("Task '{}' finished: {}.{}{}", task_id, end.stop_reason,
                         end.summary.empty() ? "" : " ", end.summary);
    case RunEnd::Kind::kStopped:
      return fmt::format("Task '{}' stopped on request: Stop Reason NORMAL.", task_id);
    case RunEnd::Kind::kFailed:
      break;
  }
  return fmt::format("Task '{}' failed ({}): {}", task_id,
                     replicate::failure_stop_reason(end.error_kind), end.failure_message);
}

}  // namespace

void report_run_end(const RunEnd& end, TaskCallbacks& callbacks, TaskTelemetry* telemetry,
                    const TaskTelemetryIdentity& identity, const std::string& task_id) {
  if (telemetry != nullptr) {
    telemetry->log(identity, end.kind == RunEnd::Kind::kFailed ? 'E' : 'I', "TASK_MANAGER",
                   log_line(end, task_id));
    telemetry->run_ended(identity);
  }
  switch (end.kind) {
    case RunEnd::Kind::kFinished:
      callbacks.on_finished(end.stop_reason);
      break;
    case RunEnd::Kind::kStopped:
      callbacks.on_stopped();
      break;
    case RunEnd::Kind::kFailed:
      if (end.error_kind == replicate::ErrorKind::kFatal) {
        callbacks.on_failed(end.failure_message);
      } else {
        // Stop Reason RECOVERABLE_ERROR: the retries the task's ErrorBehavior allows are over.
        callbacks.on_failed_recoverable(end.failure_message);
      }
      break;
  }
}

}  // namespace dagster_dms::server
