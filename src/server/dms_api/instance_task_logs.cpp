#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/resources.hpp"
#include "server/telemetry/log_store.hpp"
#include "server/telemetry/task_log.hpp"

namespace dagster_dms::server {

namespace {

// DescribeReplicationInstanceTaskLogs: each task on the instance with the size in bytes of its
// log (the stream dms-task-<task resource id> in the instance's group dms-tasks-<instance id>),
// 0 for a task that has logged nothing.
nlohmann::json describe_task_logs(ControlPlane& plane, const RequestContext& context,
                                  const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationInstanceTaskLogsMessage>(body);
  const auto instance =
      plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  std::vector<Record> tasks;
  for (auto& task : plane.list_refreshed(context, ResourceKind::kTask)) {
    if (task.doc.value("ReplicationInstanceArn", "") == instance.arn) tasks.push_back(task);
  }
  std::map<std::string, std::int64_t> stream_bytes;
  if (plane.options.task_logs != nullptr) {
    for (const auto& stream : plane.options.task_logs->streams(
             context.account, context.region, task_log_group(instance.identifier))) {
      stream_bytes[stream.name] = stream.stored_bytes;
    }
  }
  auto page = unfiltered_page(
      tasks, request.max_records, request.marker, "ReplicationInstanceTaskLogs", identifier_key,
      [&](const Record& task) {
        const auto stream = stream_bytes.find(task_log_stream(arn_resource_id(task.arn)));
        return nlohmann::json{{"ReplicationTaskName", task.identifier},
                              {"ReplicationTaskArn", task.arn},
                              {"ReplicationInstanceTaskLogSize",
                               stream == stream_bytes.end() ? std::int64_t{0} : stream->second}};
      });
  page["ReplicationInstanceArn"] = instance.arn;
  return page;
}

}  // namespace

void register_instance_task_logs(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table, {{"DescribeReplicationInstanceTaskLogs", describe_task_logs}});
}

}  // namespace dagster_dms::server
