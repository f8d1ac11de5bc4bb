#include "server/telemetry/task_telemetry.hpp"

#include <nlohmann/json.hpp>

#include "server/dms_api/identifiers.hpp"
#include "server/execution/task_executor.hpp"
#include "server/telemetry/task_log.hpp"

namespace dagster_dms::server {

TaskTelemetryIdentity task_telemetry_identity(const TaskRun& run) {
  TaskTelemetryIdentity identity;
  identity.task_arn = run.task.replication_task_arn.value_or("");
  identity.task_identifier = run.task.replication_task_identifier.value_or("");
  identity.instance_identifier = run.instance_identifier;
  if (const auto arn = parse_dms_arn(identity.task_arn)) {
    identity.account = arn->account;
    identity.region = arn->region;
    identity.task_resource_id = arn->resource_id;
    identity.serverless = arn->resource_type == arn_resource_type(ResourceKind::kReplicationConfig);
  }
  const auto settings =
      nlohmann::json::parse(run.task.replication_task_settings.value_or(""), nullptr, false);
  if (settings.is_object() && settings.contains("Logging") && settings["Logging"].is_object()) {
    const auto& logging = settings["Logging"];
    const auto enabled = logging.find("EnableLogging");
    if (enabled != logging.end() && enabled->is_boolean() && enabled->get<bool>()) {
      const auto name = [&](const char* member, std::string fallback) {
        const auto found = logging.find(member);
        return found != logging.end() && found->is_string() && !found->get<std::string>().empty()
                   ? found->get<std::string>()
                   : fallback;
      };
      identity.log_group = name("CloudWatchLogGroup", task_log_group(identity.instance_identifier));
      identity.log_stream = name("CloudWatchLogStream", task_log_stream(identity.task_resource_id));
    }
  }
  return identity;
}

std::vector<std::pair<std::string, std::string>> metric_dimensions(
    const TaskTelemetryIdentity& task) {
  if (task.serverless) {
    return {{"ReplicationConfigId", task.account + ":" + task.task_resource_id}};
  }
  return {{"ReplicationInstanceIdentifier", task.instance_identifier},
          {"ReplicationTaskIdentifier", task.task_resource_id}};
}

}  // namespace dagster_dms::server
