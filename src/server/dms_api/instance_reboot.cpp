#include <fmt/format.h>

#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/run_lifecycle.hpp"
#include "server/dms_api/task_runs.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// RebootReplicationInstance: the instance shows `rebooting` for instance_create_delay, then
// `available` again (the transition is the one instances.cpp gives a new instance). Tasks
// running on it are interrupted: dms-local stops them, so none keeps running through an outage;
// the user starts them again with resume-processing.
nlohmann::json reboot_instance(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::RebootReplicationInstanceMessage>(body);
  auto record = plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  const bool failover = request.force_failover.value_or(false);
  const bool planned_failover = request.force_planned_failover.value_or(false);
  if (failover && planned_failover) {
    throw invalid_combination("ForceFailover and ForcePlannedFailover cannot both be true.");
  }
  if ((failover || planned_failover) && !record.doc.value("MultiAZ", false)) {
    throw invalid_parameter(fmt::format(
        "Replication instance {} is not Multi-AZ: ForceFailover and ForcePlannedFailover need a "
        "Multi-AZ instance.",
        record.identifier));
  }
  if (status_in<InstanceStatus>(record.doc) != InstanceStatus::kAvailable) {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", record.identifier));
  }
  const RunLifecycle<TaskRunShape> runs(plane);
  for (auto& task : plane.store.list(ResourceKind::kTask, context.account, context.region)) {
    if (task.doc.value("ReplicationInstanceArn", "") != record.arn) continue;
    const auto status = status_in<TaskStatus>(task.doc);
    if (status == TaskStatus::kRunning || status == TaskStatus::kStarting) runs.stop(task);
  }
  set_status(record.doc, InstanceStatus::kRebooting);
  record.internal["ready_at_ms"] = plane.now_millis() + plane.options.instance_create_delay.count();
  plane.store.update(ResourceKind::kInstance, record);
  return {{"ReplicationInstance", public_document<dms::ReplicationInstance>(record.doc)}};
}

}  // namespace

void register_instance_reboot(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table, {{"RebootReplicationInstance", reboot_instance}});
}

}  // namespace dagster_dms::server
