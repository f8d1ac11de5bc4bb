#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace dagster_dms::server {

// DMS's task log line (DMS-BEHAVIOUR.md section 7), without the optional thread-number prefix
// and the trailing source reference, which dms-local has no meaningful value for:
//   2024-03-05T14:10:20 [TASK_MANAGER    ]I:  Task is running
// The component is padded to 16 characters; `severity` is I, W or E (D and T for debug/trace).
// Times are UTC. Newlines inside `message` become spaces, so one event is always one line.
std::string format_task_log_line(std::chrono::system_clock::time_point when, char severity,
                                 std::string_view component, std::string_view message);

// The names DMS gives a task's CloudWatch log: group per replication instance, stream per task.
std::string task_log_group(std::string_view instance_identifier);
std::string task_log_stream(std::string_view task_resource_id);

}  // namespace dagster_dms::server
