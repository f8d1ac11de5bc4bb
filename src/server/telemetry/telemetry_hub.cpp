#include "server/telemetry/telemetry_hub.hpp"

#include <fmt/format.h>

#include "server/telemetry/task_log.hpp"

namespace dagster_dms::server {

void TelemetryHub::log(const TaskTelemetryIdentity& task, char severity, std::string_view component,
                       std::string_view message) {
  if (!task.log_group || !task.log_stream) return;
  const auto now = clock_.now();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  try {
    logs_.append(task.account, task.region, *task.log_group, *task.log_stream, millis, millis,
                 format_task_log_line(now, severity, component, message));
  } catch (const std::exception& error) {
    // Losing a log line must not fail the task that wrote it.
    if (logger_ != nullptr) {
      logger_->log(LogLevel::kWarning, fmt::format("task {}: cannot store a log line: {}",
                                                   task.task_identifier, error.what()));
    }
  }
}

}  // namespace dagster_dms::server
