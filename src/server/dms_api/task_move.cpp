#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"
#include "server/telemetry/task_log.hpp"

namespace dagster_dms::server {

namespace {

// DMS quota: replication tasks per replication instance.
constexpr std::size_t kTasksPerInstanceQuota = 200;

// The instance a moving task goes to, kept until the move completes.
constexpr const char* kMoveTarget = "move_target_instance_arn";

// "3.5.3" -> {3, 5, 3}; a part that is not a number counts as 0.
std::vector<std::int64_t> version_parts(const std::string& version) {
  std::vector<std::int64_t> parts;
  std::size_t start = 0;
  while (start <= version.size()) {
    const auto dot = version.find('.', start);
    const auto part = version.substr(start, dot == std::string::npos ? dot : dot - start);
    std::int64_t number = 0;
    for (const char c : part) {
      if (c < '0' || c > '9') break;
      number = number * 10 + (c - '0');
    }
    parts.push_back(number);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

// A task's log lives in its instance's log group: once moved, it logs to the new one.
void rename_log_group(Record& task, const std::string& instance_identifier) {
  const auto settings_text = task.doc.value("ReplicationTaskSettings", "");
  if (settings_text.empty()) return;
  auto settings = nlohmann::json::parse(settings_text, nullptr, false);
  if (!settings.is_object() || !settings.contains("Logging") || !settings["Logging"].is_object() ||
      !settings["Logging"].contains("CloudWatchLogGroup") ||
      settings["Logging"]["CloudWatchLogGroup"].is_null()) {
    return;
  }
  settings["Logging"]["CloudWatchLogGroup"] = task_log_group(instance_identifier);
  task.doc["ReplicationTaskSettings"] = settings.dump();
}

// MoveReplicationTask: a stopped task moves to another available instance of the same account
// and region whose engine version is not older; it shows `moving` for task_create_delay, then
// `stopped` again, on the target instance.
nlohmann::json move_task(ControlPlane& plane, const RequestContext& context,
                         const nlohmann::json& body) {
  const auto request = parse_request<dms::MoveReplicationTaskMessage>(body);
  auto task = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto target =
      plane.require(context, ResourceKind::kInstance, request.target_replication_instance_arn);
  const auto status = status_in<TaskStatus>(task.doc);
  if (status != TaskStatus::kStopped) {
    throw invalid_state(
        fmt::format("Replication task {} is {}; only a stopped task can be moved (stop it first).",
                    task.identifier, task.doc.value("Status", "")));
  }
  const auto source_arn = task.doc.value("ReplicationInstanceArn", "");
  if (source_arn == target.arn) {
    throw invalid_parameter(
        fmt::format("Replication task {} already runs on replication instance {}; give another "
                    "TargetReplicationInstanceArn.",
                    task.identifier, target.identifier));
  }
  if (status_in<InstanceStatus>(target.doc) != InstanceStatus::kAvailable) {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", target.identifier));
  }
  if (const auto source = plane.store.find_by_arn(ResourceKind::kInstance, source_arn)) {
    const auto from = source->doc.value("EngineVersion", "");
    const auto to = target.doc.value("EngineVersion", "");
    if (version_parts(to) < version_parts(from)) {
      throw invalid_parameter(fmt::format(
          "Replication instance {} runs engine version {}, older than the {} of the task's "
          "instance {}; move the task to an instance with engine version {} or later.",
          target.identifier, to, from, source->identifier, from));
    }
  }
  std::size_t on_target = 0;
  for (const auto& other : plane.store.list(ResourceKind::kTask, context.account, context.region)) {
    if (other.doc.value("ReplicationInstanceArn", "") == target.arn) ++on_target;
  }
  if (on_target >= kTasksPerInstanceQuota) {
    throw quota_exceeded(fmt::format(
        "Replication instance {} already holds {} tasks, the quota of replication tasks per "
        "instance.",
        target.identifier, kTasksPerInstanceQuota));
  }
  set_status(task.doc, TaskStatus::kMoving);
  task.internal[kMoveTarget] = target.arn;
  task.internal["ready_at_ms"] = plane.now_millis() + plane.options.task_create_delay.count();
  plane.store.update(ResourceKind::kTask, task);
  return {{"ReplicationTask", public_document<dms::ReplicationTask>(task.doc)}};
}

}  // namespace

void register_task_move(ControlPlane& plane, OperationTable& table) {
  plane.on_due(ResourceKind::kTask, [&plane](Record& task) {
    if (status_in<TaskStatus>(task.doc) != TaskStatus::kMoving) return false;
    const auto target_arn = task.internal.value(kMoveTarget, "");
    task.internal.erase(kMoveTarget);
    // The target instance went away during the move: the task stays where it was.
    const auto target = plane.store.find_by_arn(ResourceKind::kInstance, target_arn);
    if (target) {
      task.doc["ReplicationInstanceArn"] = target->arn;
      rename_log_group(task, target->identifier);
    }
    set_status(task.doc, TaskStatus::kStopped);
    return true;
  });
  add_operations(plane, table, {{"MoveReplicationTask", move_task}});
}

}  // namespace dagster_dms::server
