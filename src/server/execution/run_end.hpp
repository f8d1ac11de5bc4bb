#pragma once

#include <string>

#include "replicate/recoverable_errors.hpp"
#include "server/execution/task_executor.hpp"
#include "server/telemetry/task_telemetry.hpp"

namespace dagster_dms::server {

// How a run ended, whichever engine ran it.
struct RunEnd {
  enum class Kind { kFinished, kStopped, kFailed };
  Kind kind = Kind::kFinished;
  std::string stop_reason;      // kFinished: like "Stop Reason FULL_LOAD_ONLY_FINISHED"
  std::string summary;          // kFinished: a sentence for the task log after the stop reason
  std::string failure_message;  // kFailed
  replicate::ErrorKind error_kind = replicate::ErrorKind::kFatal;  // kFailed
};

// Writes the run's last TASK_MANAGER log line (when `telemetry` is given), ends its telemetry,
// then tells the control plane: finished with its stop reason, stopped on request, or failed
// with the stop reason its kind of error gives.
void report_run_end(const RunEnd& end, TaskCallbacks& callbacks, TaskTelemetry* telemetry,
                    const TaskTelemetryIdentity& identity, const std::string& task_id);

}  // namespace dagster_dms::server
