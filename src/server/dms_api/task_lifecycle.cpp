// StartReplicationTask, StopReplicationTask and what the data plane reports about a run.
#include <fmt/format.h>

#include "server/dms_api/cdc_position_rules.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

constexpr const char* kStopNormal = "Stop Reason NORMAL";
constexpr const char* kStopFatal = "Stop Reason FATAL_ERROR";
constexpr const char* kStopRecoverable = "Stop Reason RECOVERABLE_ERROR";

nlohmann::json& stats_of(Record& record) {
  auto& stats = record.doc["ReplicationTaskStats"];
  if (!stats.is_object()) stats = nlohmann::json::object();
  return stats;
}

// Whether the data plane has the task's current run: from begin_run on, whatever the status
// shows (a CDC run is still `starting` until its slot holds a position).
bool executing(const Record& record) {
  const auto run_id = record.internal.value("run_id", std::int64_t{0});
  return record.internal.value("executing_run", std::int64_t{-1}) == run_id;
}

}  // namespace

// Routes a run's reports to the service, tagged with the run they belong to so reports of an
// earlier run (after a stop and a new start) are ignored.
class RunCallbacks final : public TaskCallbacks {
 public:
  RunCallbacks(DmsService& service, std::string task_arn, std::int64_t run_id)
      : service_(service), task_arn_(std::move(task_arn)), run_id_(run_id) {}

  void on_progress(const dms::ReplicationTaskStats& stats) override {
    nlohmann::json given;
    dms::to_json(given, stats);
    service_.apply_report(task_arn_, run_id_, [&](Record& record) {
      if (record.doc.value("Status", "") != "running") return;
      stats_of(record).update(given);
    });
  }

  void on_table_statistics(const std::vector<dms::TableStatistics>& tables) override {
    std::vector<nlohmann::json> documents;
    for (const auto& table : tables) {
      nlohmann::json document;
      dms::to_json(document, table);
      documents.push_back(std::move(document));
    }
    service_.apply_report(task_arn_, run_id_, [&](Record& record) {
      service_.store_.replace_table_statistics(record.arn, documents);
    });
  }

  void on_finished(const std::string& stop_reason) override {
    end(stop_reason, "stopped", std::nullopt);
  }
  void on_failed(const std::string& message) override { end(kStopFatal, "failed", message); }
  void on_failed_recoverable(const std::string& message) override {
    end(kStopRecoverable, "failed", message);
  }
  void on_stopped() override { end(kStopNormal, "stopped", std::nullopt); }

  void on_running() override {
    service_.apply_report(task_arn_, run_id_, [&](Record& record) {
      if (record.doc.value("Status", "") == "starting") record.doc["Status"] = "running";
    });
  }

  void on_checkpoint(const std::string& recovery_checkpoint) override {
    service_.apply_report(task_arn_, run_id_, [&](Record& record) {
      record.doc["RecoveryCheckpoint"] = recovery_checkpoint;
    });
  }

 private:
  void end(const std::string& stop_reason, const std::string& status,
           const std::optional<std::string>& failure) {
    service_.apply_report(task_arn_, run_id_, [&](Record& record) {
      const auto current = record.doc.value("Status", "");
      if (current != "running" && current != "stopping" && current != "starting") return;
      record.doc["Status"] = status;
      record.doc["StopReason"] = stop_reason;
      if (failure) record.doc["LastFailureMessage"] = *failure;
      auto& stats = stats_of(record);
      const auto now = service_.now_json();
      stats["StopDate"] = now;
      // Always from StartDate: a data plane's last progress report may be older than the end.
      if (stats.contains("StartDate")) {
        stats["ElapsedTimeMillis"] = static_cast<std::int64_t>(
            (now.get<double>() - stats["StartDate"].get<double>()) * 1000.0);
      }
    });
  }

  DmsService& service_;
  std::string task_arn_;
  std::int64_t run_id_;
};

nlohmann::json DmsService::start_task(const RequestContext& context, const nlohmann::json& body) {
  const auto request = parse_request<dms::StartReplicationTaskMessage>(body);
  auto record = require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto& type = request.start_replication_task_type;
  if (type != "start-replication" && type != "resume-processing" && type != "reload-target") {
    throw invalid_parameter(fmt::format(
        "Invalid value {} for StartReplicationTaskType. Valid values: start-replication, "
        "resume-processing, reload-target.",
        type));
  }
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  require_valid_cdc_positions(request.cdc_start_time.has_value(), request.cdc_start_position,
                              request.cdc_stop_position, source_engine_of(record));
  const auto status = record.doc.value("Status", "");
  const auto runs = record.internal.value("runs", std::int64_t{0});
  if (status != "ready" && status != "stopped" && status != "failed") {
    throw invalid_state(fmt::format("Replication task {} is {}; it cannot be started now.",
                                    record.identifier, status));
  }
  if (runs == 0 && type != "start-replication") {
    throw invalid_state(fmt::format(
        "Replication task {} has never run; start it with start-replication.", record.identifier));
  }
  if (runs > 0 && type == "start-replication") {
    throw invalid_state(
        fmt::format("Replication task {} has run before; use resume-processing or reload-target.",
                    record.identifier));
  }

  const auto now = now_json();
  const auto run_id = record.internal.value("run_id", std::int64_t{0}) + 1;
  record.internal["run_id"] = run_id;
  record.internal["runs"] = runs + 1;
  record.internal["start_type"] = type;
  record.doc["Status"] = "starting";
  record.doc.erase("StopReason");
  record.doc.erase("LastFailureMessage");
  record.doc["ReplicationTaskStartDate"] = now;
  if (request.cdc_start_position) {
    record.doc["CdcStartPosition"] = *request.cdc_start_position;
    record.internal["run_cdc_start_position"] = *request.cdc_start_position;
  } else {
    record.internal.erase("run_cdc_start_position");
  }
  if (request.cdc_stop_position) record.doc["CdcStopPosition"] = *request.cdc_stop_position;
  auto& stats = stats_of(record);
  const bool fresh = type != "resume-processing";
  if (fresh) {
    stats = {{"FullLoadProgressPercent", 0}, {"ElapsedTimeMillis", 0}, {"TablesLoaded", 0},
             {"TablesLoading", 0},           {"TablesQueued", 0},      {"TablesErrored", 0},
             {"FreshStartDate", now}};
    store_.replace_table_statistics(record.arn, {});
    // A fresh start makes a new CDC slot: an old position must not be resumed from.
    record.doc.erase("RecoveryCheckpoint");
  }
  stats.erase("StopDate");
  stats.erase("ElapsedTimeMillis");
  stats["StartDate"] = now;
  store_.update(ResourceKind::kTask, record);

  const auto arn = record.arn;
  after_unlock([this, arn, run_id] {
    scheduler_.schedule(options_.task_start_delay, [this, arn, run_id] { begin_run(arn, run_id); });
  });
  return {{"ReplicationTask", record.doc}};
}

void DmsService::begin_run(const std::string& task_arn, std::int64_t run_id) {
  TaskRun run;
  {
    const std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    auto record = store_.find_by_arn(ResourceKind::kTask, task_arn);
    if (!record || record->internal.value("run_id", std::int64_t{0}) != run_id) return;
    const auto status = record->doc.value("Status", "");
    if (status == "stopping") {
      // Stopped before the data plane got it.
      record->doc["Status"] = "stopped";
      record->doc["StopReason"] = kStopNormal;
      stats_of(*record)["StopDate"] = now_json();
      store_.update(ResourceKind::kTask, *record);
      return;
    }
    if (status != "starting") return;
    // A run that captures changes shows `running` once its slot holds a position (on_running).
    const auto migration = record->doc.value("MigrationType", "full-load");
    if (migration != "cdc" && migration != "full-load-and-cdc") record->doc["Status"] = "running";
    record->internal["executing_run"] = run_id;
    store_.update(ResourceKind::kTask, *record);
    run = task_run_of(*record);
  }
  executor_.start(run, std::make_shared<RunCallbacks>(*this, task_arn, run_id));
  // A StopReplicationTask between the unlock above and the start reached an executor that did
  // not know the run yet, which ignores it: ask again now that it does.
  bool stop_again = false;
  {
    const std::lock_guard lock(mutex_);
    const auto record = store_.find_by_arn(ResourceKind::kTask, task_arn);
    stop_again = record && record->internal.value("run_id", std::int64_t{0}) == run_id &&
                 record->doc.value("Status", "") == "stopping";
  }
  if (stop_again) executor_.stop(task_arn);
}

std::string DmsService::source_engine_of(const Record& task) {
  const auto source =
      store_.find_by_arn(ResourceKind::kEndpoint, task.doc.value("SourceEndpointArn", ""));
  return source ? source->doc.value("EngineName", "") : "";
}

TaskRun DmsService::task_run_of(const Record& record) {
  TaskRun run;
  dms::from_json(record.doc, run.task);
  run.start_type = record.internal.value("start_type", "start-replication");
  if (record.internal.contains("run_cdc_start_position")) {
    run.cdc_start_position = record.internal["run_cdc_start_position"].get<std::string>();
  } else if (run.start_type == "start-replication") {
    run.cdc_start_position = run.task.cdc_start_position;
  }
  const auto load_endpoint = [&](const std::string& arn, dms::Endpoint& endpoint,
                                 std::optional<std::string>& password) {
    if (auto stored = store_.find_by_arn(ResourceKind::kEndpoint, arn)) {
      dms::from_json(stored->doc, endpoint);
      if (stored->internal.contains("Password")) password = stored->internal["Password"];
      // A password given only inside PostgreSQLSettings counts too.
      if (!password && stored->internal.contains("PostgreSQLSettings") &&
          stored->internal["PostgreSQLSettings"].contains("Password")) {
        password = stored->internal["PostgreSQLSettings"]["Password"];
      }
    }
  };
  load_endpoint(record.doc.value("SourceEndpointArn", ""), run.source, run.source_password);
  load_endpoint(record.doc.value("TargetEndpointArn", ""), run.target, run.target_password);
  if (auto instance = store_.find_by_arn(ResourceKind::kInstance,
                                         record.doc.value("ReplicationInstanceArn", ""))) {
    run.instance_identifier = instance->identifier;
  }
  for (const auto& stored : store_.table_statistics(record.arn)) {
    dms::from_json(stored, run.table_statistics.emplace_back());
  }
  return run;
}

void DmsService::apply_report(const std::string& task_arn, std::int64_t run_id,
                              const std::function<void(Record&)>& change) {
  const std::lock_guard lock(mutex_);
  auto record = store_.find_by_arn(ResourceKind::kTask, task_arn);
  if (!record || record->internal.value("run_id", std::int64_t{0}) != run_id) return;
  store_.transaction([&] {
    change(*record);
    store_.update(ResourceKind::kTask, *record);
  });
}

nlohmann::json DmsService::stop_task(const RequestContext& context, const nlohmann::json& body) {
  const auto request = parse_request<dms::StopReplicationTaskMessage>(body);
  auto record = require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto status = record.doc.value("Status", "");
  if (status != "running" && status != "starting") {
    throw invalid_state(
        fmt::format("Replication task {} is {}; only a running task can be "
                    "stopped.",
                    record.identifier, status));
  }
  record.doc["Status"] = "stopping";
  store_.update(ResourceKind::kTask, record);
  if (executing(record)) {
    const auto arn = record.arn;
    after_unlock([this, arn] { executor_.stop(arn); });
  }
  return {{"ReplicationTask", record.doc}};
}

void DmsService::recover_interrupted_tasks() {
  const std::lock_guard lock(mutex_);
  store_.transaction([&] {
    for (auto& record : store_.list_all(ResourceKind::kTask)) {
      const auto status = record.doc.value("Status", "");
      if (status != "starting" && status != "running" && status != "stopping") continue;
      record.doc["Status"] = "failed";
      record.doc["StopReason"] = kStopFatal;
      record.doc["LastFailureMessage"] = fmt::format(
          "The task was {} when dms-local stopped unexpectedly; start it again with "
          "resume-processing or reload-target.",
          status);
      stats_of(record)["StopDate"] = now_json();
      record.internal["run_id"] = record.internal.value("run_id", std::int64_t{0}) + 1;
      store_.update(ResourceKind::kTask, record);
    }
    recover_interrupted_replications_locked();
    recover_interrupted_connections_locked();
  });
}

void DmsService::shutdown() {
  scheduler_.shutdown();
  background_.shutdown();
  std::vector<std::string> running;
  {
    const std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    shutting_down_ = true;
    store_.transaction([&] {
      for (auto& record : store_.list_all(ResourceKind::kTask)) {
        const auto status = record.doc.value("Status", "");
        if (status != "starting" && status != "running" && status != "stopping") continue;
        if (executing(record)) running.push_back(record.arn);
        record.doc["Status"] = "stopped";
        record.doc["StopReason"] = kStopNormal;
        stats_of(record)["StopDate"] = now_json();
        // Later reports from the data plane belong to a run that is over.
        record.internal["run_id"] = record.internal.value("run_id", std::int64_t{0}) + 1;
        store_.update(ResourceKind::kTask, record);
      }
      stop_replications_for_shutdown_locked(running);
    });
  }
  for (const auto& arn : running) executor_.stop(arn);
  executor_.shutdown();
}

}  // namespace dagster_dms::server
