#include "server/telemetry/task_log.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

namespace dagster_dms::server {

std::string format_task_log_line(std::chrono::system_clock::time_point when, char severity,
                                 std::string_view component, std::string_view message) {
  std::string text(message);
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  const auto seconds = std::chrono::floor<std::chrono::seconds>(when);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S} [{:<16}]{}:  {}", seconds, component, severity, text);
}

std::string task_log_group(std::string_view instance_identifier) {
  return fmt::format("dms-tasks-{}", instance_identifier);
}

std::string task_log_stream(std::string_view task_resource_id) {
  return fmt::format("dms-task-{}", task_resource_id);
}

}  // namespace dagster_dms::server
