#include "server/dms_api/replication_runs.hpp"

#include <fmt/format.h>

#include "server/dms_api/endpoint_secrets.hpp"
#include "server/dms_api/replication_rules.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/run_types.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

std::string ReplicationRunShape::what(const Record& config) {
  return fmt::format("Replication {}", config.identifier);
}

nlohmann::json& ReplicationRunShape::run_state(Record& config) {
  auto& replication = config.internal["replication"];
  if (!replication.is_object()) replication = nlohmann::json::object();
  return replication;
}

bool ReplicationRunShape::can_start(ReplicationStatus status) {
  return status == ReplicationStatus::kCreated || status == ReplicationStatus::kStopped ||
         status == ReplicationStatus::kFailed;
}

void ReplicationRunShape::record_failure(nlohmann::json& state, const std::string& message) {
  state["FailureMessages"] = nlohmann::json::array({message});
}

void ReplicationRunShape::touch(nlohmann::json& state, const nlohmann::json& now) {
  state["ReplicationUpdateTime"] = now;
}

void ReplicationRunShape::mark_ended(nlohmann::json& state, const nlohmann::json& now) {
  state["ReplicationLastStopTime"] = now;
  state["ReplicationUpdateTime"] = now;
}

void ReplicationRunShape::hand_over(Record& config, const nlohmann::json& now) {
  dms::ComputeConfig compute;
  dms::from_json(config.doc.value("ComputeConfig", nlohmann::json::object()), compute);
  auto& replication = run_state(config);
  set_status(replication, ReplicationStatus::kRunning);
  replication["ProvisionData"] = {{"ProvisionedCapacityUnits", provisioned_capacity_units(compute)},
                                  {"DateProvisioned", now},
                                  {"IsNewProvisioningAvailable", false}};
  set_status(replication["ProvisionData"], ProvisionState::kProvisioned);
}

void ReplicationRunShape::stopped_before_hand_over(nlohmann::json& state) {
  // Stopped before capacity was provisioned.
  set_status(state["ProvisionData"], ProvisionState::kDeprovisioned);
}

TaskRun ReplicationRunShape::run_of(const Store& store, const Record& config) {
  TaskRun run;
  run.task.replication_task_arn = config.arn;
  run.task.replication_task_identifier = config.identifier;
  run.task.migration_type = config.doc.value("ReplicationType", "full-load");
  run.task.table_mappings = config.doc.value("TableMappings", "");
  run.task.replication_task_settings = config.doc.value("ReplicationSettings", "");
  run.task.source_endpoint_arn = config.doc.value("SourceEndpointArn", "");
  run.task.target_endpoint_arn = config.doc.value("TargetEndpointArn", "");
  const auto replication = config.internal.value("replication", nlohmann::json::object());
  run.start_type = replication.value("StartReplicationType", std::string(kStartTypeStart));
  load_run_endpoints(store, run);
  return run;
}

nlohmann::json public_replication(const Record& config) {
  return public_document<dms::Replication>(
      config.internal.value("replication", nlohmann::json::object()));
}

namespace {

nlohmann::json start_replication(ControlPlane& plane, const RequestContext& context,
                                 const nlohmann::json& body) {
  const auto request = parse_request<dms::StartReplicationMessage>(body);
  auto record =
      plane.require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  auto& replication = ReplicationRunShape::run_state(record);
  replication["StartReplicationType"] = request.start_replication_type;
  replication.erase("ReplicationDeprovisionTime");
  replication["ProvisionData"] = {{"IsNewProvisioningAvailable", false}};
  set_status(replication["ProvisionData"], ProvisionState::kProvisioning);
  if (request.cdc_start_position) replication["CdcStartPosition"] = *request.cdc_start_position;
  if (request.cdc_stop_position) replication["CdcStopPosition"] = *request.cdc_stop_position;
  RunLifecycle<ReplicationRunShape>(plane).start(record, request.start_replication_type,
                                                 plane.now_json());
  return {{"Replication", public_replication(record)}};
}

nlohmann::json stop_replication(ControlPlane& plane, const RequestContext& context,
                                const nlohmann::json& body) {
  const auto request = parse_request<dms::StopReplicationMessage>(body);
  auto record =
      plane.require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  RunLifecycle<ReplicationRunShape>(plane).stop(record);
  return {{"Replication", public_replication(record)}};
}

}  // namespace

void register_replication_runs(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"StartReplication", start_replication}, {"StopReplication", stop_replication}});
}

}  // namespace dagster_dms::server
