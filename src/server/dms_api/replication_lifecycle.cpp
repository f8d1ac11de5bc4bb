// StartReplication, StopReplication and what the data plane reports about a serverless run.
//
// Statuses (Replication.Status): created -> starting (ProvisionState provisioning) -> running
// (provisioned) -> stopped, with StopReason "Stop Reason FULL_LOAD_ONLY_FINISHED" when a full
// load ends, "Stop Reason NORMAL" after StopReplication (through stopping), or failed with
// FailureMessages. A run is the same full load a task runs: the config is handed to the task
// executor as a task whose ARN is the config's.
#include <fmt/format.h>

#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/replication_rules.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

constexpr const char* kStopNormal = "Stop Reason NORMAL";
constexpr const char* kStopFatal = "Stop Reason FATAL_ERROR";

nlohmann::json& replication_of(Record& record) {
  auto& replication = record.internal["replication"];
  if (!replication.is_object()) replication = nlohmann::json::object();
  return replication;
}

nlohmann::json& stats_of(nlohmann::json& replication) {
  auto& stats = replication["ReplicationStats"];
  if (!stats.is_object()) stats = nlohmann::json::object();
  return stats;
}

bool is_active(const std::string& status) {
  return status == "starting" || status == "running" || status == "stopping";
}

// Marks a run over: status, stop reason, dates.
void end_run(nlohmann::json& replication, const nlohmann::json& now, const std::string& status,
             const std::string& stop_reason) {
  replication["Status"] = status;
  replication["StopReason"] = stop_reason;
  replication["ReplicationLastStopTime"] = now;
  replication["ReplicationUpdateTime"] = now;
  auto& stats = stats_of(replication);
  stats["StopDate"] = now;
  if (stats.contains("StartDate")) {
    stats["ElapsedTimeMillis"] =
        static_cast<std::int64_t>((now.get<double>() - stats["StartDate"].get<double>()) * 1000.0);
  }
}

}  // namespace

// Routes a serverless run's reports to its config, tagged with the run they belong to.
class ReplicationRunCallbacks final : public TaskCallbacks {
 public:
  ReplicationRunCallbacks(DmsService& service, std::string config_arn, std::int64_t run_id)
      : service_(service), config_arn_(std::move(config_arn)), run_id_(run_id) {}

  void on_progress(const dms::ReplicationTaskStats& stats) override {
    nlohmann::json given;
    dms::to_json(given, stats);
    service_.apply_replication_report(config_arn_, run_id_, [&](Record& record) {
      auto& replication = replication_of(record);
      if (replication.value("Status", "") != "running") return;
      // ReplicationStats has the same members as ReplicationTaskStats.
      stats_of(replication).update(given);
    });
  }

  void on_table_statistics(const std::vector<dms::TableStatistics>& tables) override {
    std::vector<nlohmann::json> documents;
    for (const auto& table : tables) {
      nlohmann::json document;
      dms::to_json(document, table);
      documents.push_back(std::move(document));
    }
    service_.apply_replication_report(config_arn_, run_id_, [&](Record& record) {
      service_.store_.replace_table_statistics(record.arn, documents);
    });
  }

  void on_finished(const std::string& stop_reason) override {
    end(stop_reason, "stopped", std::nullopt);
  }
  void on_failed(const std::string& message) override { end(kStopFatal, "failed", message); }
  void on_stopped() override { end(kStopNormal, "stopped", std::nullopt); }

 private:
  void end(const std::string& stop_reason, const std::string& status,
           const std::optional<std::string>& failure) {
    service_.apply_replication_report(config_arn_, run_id_, [&](Record& record) {
      auto& replication = replication_of(record);
      if (!is_active(replication.value("Status", ""))) return;
      end_run(replication, service_.now_json(), status, stop_reason);
      if (failure) replication["FailureMessages"] = nlohmann::json::array({*failure});
    });
  }

  DmsService& service_;
  std::string config_arn_;
  std::int64_t run_id_;
};

nlohmann::json DmsService::start_replication(const RequestContext& context,
                                             const nlohmann::json& body) {
  const auto request = parse_request<dms::StartReplicationMessage>(body);
  auto record = require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  auto& replication = replication_of(record);
  const auto status = replication.value("Status", "");
  if (status != "created" && status != "stopped" && status != "failed") {
    throw invalid_state(
        fmt::format("Replication {} is {}; it cannot be started now.", record.identifier, status));
  }
  const auto runs = record.internal.value("runs", std::int64_t{0});
  check_start_type(fmt::format("Replication {}", record.identifier), request.start_replication_type,
                   runs);

  const auto now = now_json();
  const auto run_id = record.internal.value("run_id", std::int64_t{0}) + 1;
  record.internal["run_id"] = run_id;
  record.internal["runs"] = runs + 1;
  replication["Status"] = "starting";
  replication["StartReplicationType"] = request.start_replication_type;
  replication["ReplicationUpdateTime"] = now;
  replication.erase("StopReason");
  replication.erase("FailureMessages");
  replication.erase("ReplicationDeprovisionTime");
  replication["ProvisionData"] = {{"ProvisionState", "provisioning"},
                                  {"IsNewProvisioningAvailable", false}};
  if (request.cdc_start_position) replication["CdcStartPosition"] = *request.cdc_start_position;
  if (request.cdc_stop_position) replication["CdcStopPosition"] = *request.cdc_stop_position;
  auto& stats = stats_of(replication);
  if (request.start_replication_type != "resume-processing") {
    stats = {{"FullLoadProgressPercent", 0}, {"TablesLoaded", 0},
             {"TablesLoading", 0},           {"TablesQueued", 0},
             {"TablesErrored", 0},           {"FreshStartDate", now}};
    store_.replace_table_statistics(record.arn, {});
  }
  stats.erase("StopDate");
  stats.erase("ElapsedTimeMillis");
  stats["StartDate"] = now;
  store_.update(ResourceKind::kReplicationConfig, record);

  const auto arn = record.arn;
  after_unlock([this, arn, run_id] {
    scheduler_.schedule(options_.task_start_delay,
                        [this, arn, run_id] { begin_replication_run(arn, run_id); });
  });
  return {{"Replication", public_replication(record)}};
}

void DmsService::begin_replication_run(const std::string& config_arn, std::int64_t run_id) {
  TaskRun run;
  {
    const std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    auto record = store_.find_by_arn(ResourceKind::kReplicationConfig, config_arn);
    if (!record || record->internal.value("run_id", std::int64_t{0}) != run_id) return;
    auto& replication = replication_of(*record);
    const auto status = replication.value("Status", "");
    const auto now = now_json();
    if (status == "stopping") {
      // Stopped before capacity was provisioned: nothing ran.
      end_run(replication, now, "stopped", kStopNormal);
      replication["ProvisionData"]["ProvisionState"] = "deprovisioned";
      store_.update(ResourceKind::kReplicationConfig, *record);
      return;
    }
    if (status != "starting") return;
    dms::ComputeConfig compute;
    dms::from_json(record->doc.value("ComputeConfig", nlohmann::json::object()), compute);
    replication["Status"] = "running";
    replication["ProvisionData"] = {
        {"ProvisionState", "provisioned"},
        {"ProvisionedCapacityUnits", provisioned_capacity_units(compute)},
        {"DateProvisioned", now},
        {"IsNewProvisioningAvailable", false}};
    store_.update(ResourceKind::kReplicationConfig, *record);

    run = replication_run_of(*record);
  }
  executor_.start(run, std::make_shared<ReplicationRunCallbacks>(*this, config_arn, run_id));
}

TaskRun DmsService::replication_run_of(const Record& record) {
  // The executor runs tasks: a config becomes one, keyed by the config's ARN (which also names
  // its CDC slot).
  TaskRun run;
  run.task.replication_task_arn = record.arn;
  run.task.replication_task_identifier = record.identifier;
  run.task.migration_type = record.doc.value("ReplicationType", "full-load");
  run.task.table_mappings = record.doc.value("TableMappings", "");
  run.task.replication_task_settings = record.doc.value("ReplicationSettings", "");
  run.task.source_endpoint_arn = record.doc.value("SourceEndpointArn", "");
  run.task.target_endpoint_arn = record.doc.value("TargetEndpointArn", "");
  const auto replication = record.internal.value("replication", nlohmann::json::object());
  run.start_type = replication.value("StartReplicationType", "start-replication");
  const auto load_endpoint = [&](const std::string& arn, dms::Endpoint& endpoint,
                                 std::optional<std::string>& password) {
    if (auto stored = store_.find_by_arn(ResourceKind::kEndpoint, arn)) {
      dms::from_json(stored->doc, endpoint);
      password = stored_password(*stored);
    }
  };
  load_endpoint(*run.task.source_endpoint_arn, run.source, run.source_password);
  load_endpoint(*run.task.target_endpoint_arn, run.target, run.target_password);
  return run;
}

void DmsService::apply_replication_report(const std::string& config_arn, std::int64_t run_id,
                                          const std::function<void(Record&)>& change) {
  const std::lock_guard lock(mutex_);
  auto record = store_.find_by_arn(ResourceKind::kReplicationConfig, config_arn);
  if (!record || record->internal.value("run_id", std::int64_t{0}) != run_id) return;
  store_.transaction([&] {
    change(*record);
    store_.update(ResourceKind::kReplicationConfig, *record);
  });
}

nlohmann::json DmsService::stop_replication(const RequestContext& context,
                                            const nlohmann::json& body) {
  const auto request = parse_request<dms::StopReplicationMessage>(body);
  auto record = require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  auto& replication = replication_of(record);
  const auto status = replication.value("Status", "");
  if (status != "running" && status != "starting") {
    throw invalid_state(
        fmt::format("Replication {} is {}; only a running replication can be stopped.",
                    record.identifier, status));
  }
  replication["Status"] = "stopping";
  replication["ReplicationUpdateTime"] = now_json();
  store_.update(ResourceKind::kReplicationConfig, record);
  if (status == "running") {
    const auto arn = record.arn;
    after_unlock([this, arn] { executor_.stop(arn); });
  }
  return {{"Replication", public_replication(record)}};
}

void DmsService::recover_interrupted_replications_locked() {
  for (auto& record : store_.list_all(ResourceKind::kReplicationConfig)) {
    auto& replication = replication_of(record);
    const auto status = replication.value("Status", "");
    if (!is_active(status)) continue;
    end_run(replication, now_json(), "failed", kStopFatal);
    replication["FailureMessages"] = nlohmann::json::array(
        {fmt::format("The replication was {} when dms-local stopped unexpectedly; start it again "
                     "with resume-processing or reload-target.",
                     status)});
    record.internal["run_id"] = record.internal.value("run_id", std::int64_t{0}) + 1;
    store_.update(ResourceKind::kReplicationConfig, record);
  }
}

void DmsService::stop_replications_for_shutdown_locked(std::vector<std::string>& running) {
  for (auto& record : store_.list_all(ResourceKind::kReplicationConfig)) {
    auto& replication = replication_of(record);
    const auto status = replication.value("Status", "");
    if (!is_active(status)) continue;
    if (status == "running" || status == "stopping") running.push_back(record.arn);
    end_run(replication, now_json(), "stopped", kStopNormal);
    // Later reports from the data plane belong to a run that is over.
    record.internal["run_id"] = record.internal.value("run_id", std::int64_t{0}) + 1;
    store_.update(ResourceKind::kReplicationConfig, record);
  }
}

}  // namespace dagster_dms::server
