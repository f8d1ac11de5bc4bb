#include "server/dms_api/task_runs.hpp"

#include <fmt/format.h>

#include "server/dms_api/cdc_position_rules.hpp"
#include "server/dms_api/endpoint_secrets.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/run_types.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

std::string TaskRunShape::what(const Record& task) {
  return fmt::format("Replication task {}", task.identifier);
}

bool TaskRunShape::can_start(TaskStatus status) {
  return status == TaskStatus::kReady || status == TaskStatus::kStopped ||
         status == TaskStatus::kFailed;
}

void TaskRunShape::record_failure(nlohmann::json& state, const std::string& message) {
  state["LastFailureMessage"] = message;
}

void TaskRunShape::record_checkpoint(Record& task, const std::string& recovery_checkpoint) {
  task.doc["RecoveryCheckpoint"] = recovery_checkpoint;
}

void TaskRunShape::hand_over(Record& task, const nlohmann::json& /*now*/) {
  // A run that captures changes shows `running` once its slot holds a position (on_running).
  if (!captures_changes(task.doc.value("MigrationType", std::string(kMigrationFullLoad)))) {
    set_status(task.doc, TaskStatus::kRunning);
  }
}

TaskRun TaskRunShape::run_of(const Store& store, const Record& task) {
  TaskRun run;
  dms::from_json(task.doc, run.task);
  run.start_type = task.internal.value("start_type", std::string(kStartTypeStart));
  if (task.internal.contains("run_cdc_start_position")) {
    run.cdc_start_position = task.internal["run_cdc_start_position"].get<std::string>();
  } else if (run.start_type == kStartTypeStart) {
    run.cdc_start_position = run.task.cdc_start_position;
  }
  load_run_endpoints(store, run);
  if (auto instance = store.find_by_arn(ResourceKind::kInstance,
                                        task.doc.value("ReplicationInstanceArn", ""))) {
    run.instance_identifier = instance->identifier;
  }
  for (const auto& stored : store.table_statistics(task.arn)) {
    dms::from_json(stored, run.table_statistics.emplace_back());
  }
  return run;
}

std::string source_engine_of(const Store& store, const Record& task) {
  const auto source =
      store.find_by_arn(ResourceKind::kEndpoint, task.doc.value("SourceEndpointArn", ""));
  return source ? source->doc.value("EngineName", "") : "";
}

namespace {

nlohmann::json start_task(ControlPlane& plane, const RequestContext& context,
                          const nlohmann::json& body) {
  const auto request = parse_request<dms::StartReplicationTaskMessage>(body);
  auto record = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto& type = request.start_replication_task_type;
  require_start_type_value("StartReplicationTaskType", type);
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  require_valid_cdc_positions(request.cdc_start_time.has_value(), request.cdc_start_position,
                              request.cdc_stop_position, source_engine_of(plane.store, record));

  const auto now = plane.now_json();
  record.internal["start_type"] = type;
  record.doc["ReplicationTaskStartDate"] = now;
  if (request.cdc_start_position) {
    record.doc["CdcStartPosition"] = *request.cdc_start_position;
    record.internal["run_cdc_start_position"] = *request.cdc_start_position;
  } else {
    record.internal.erase("run_cdc_start_position");
  }
  if (request.cdc_stop_position) record.doc["CdcStopPosition"] = *request.cdc_stop_position;
  // A fresh start makes a new CDC slot: an old position must not be resumed from.
  if (type != kStartTypeResume) record.doc.erase("RecoveryCheckpoint");
  RunLifecycle<TaskRunShape>(plane).start(record, type, now);
  return {{"ReplicationTask", record.doc}};
}

nlohmann::json stop_task(ControlPlane& plane, const RequestContext& context,
                         const nlohmann::json& body) {
  const auto request = parse_request<dms::StopReplicationTaskMessage>(body);
  auto record = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  RunLifecycle<TaskRunShape>(plane).stop(record);
  return {{"ReplicationTask", record.doc}};
}

}  // namespace

void register_task_runs(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"StartReplicationTask", start_task}, {"StopReplicationTask", stop_task}});
}

}  // namespace dagster_dms::server
