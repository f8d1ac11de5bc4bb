#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/cdc.hpp"
#include "replicate/full_load.hpp"
#include "server/execution/data_plane_executor.hpp"
#include "server/execution/reload_requests.hpp"
#include "server/execution/run_end.hpp"
#include "server/execution/run_validation.hpp"
#include "server/execution/task_executor.hpp"
#include "server/telemetry/task_telemetry.hpp"

namespace dagster_dms::server {

// Turns the engine's events into the task's stored state, its log and its metrics. The engine
// calls one method at a time; the run's validation reports from its own thread, hence the lock.
// Reports are throttled because each one is a SQLite write under the control plane's lock.
class RunReporter final : public replicate::CdcObserver {
 public:
  RunReporter(std::shared_ptr<TaskCallbacks> callbacks, const DataPlaneExecutorOptions& options,
              std::string task_id, replicate::Clock::time_point task_start,
              TaskTelemetryIdentity identity, const ReloadRequests& reloads,
              RunValidation& validation);
  ~RunReporter() override;
  RunReporter(const RunReporter&) = delete;
  RunReporter& operator=(const RunReporter&) = delete;

  // A table of a reload run changed: it replaces the first load's status.
  void on_reload_table_changed(const replicate::TableStatus& table) { on_table_changed(table); }
  // A reload run ended: its tables count as reloaded (FullLoadReloaded) from now on.
  void finish_reload(const replicate::FullLoadResult& reload);
  // The last word on a load: the engine's final table list and progress, unthrottled.
  void finish(const replicate::FullLoadResult& result);
  // The run is over: see report_run_end.
  void report_end(const RunEnd& end);

  void on_tables_planned(const std::vector<replicate::TableStatus>& tables) override;
  void on_table_changed(const replicate::TableStatus& table) override;
  void on_progress(const replicate::FullLoadProgress& progress) override;
  void on_log(replicate::LogSeverity severity, std::string_view component,
              std::string_view message) override;
  // The load of a CDC run ended: its tables are validated while replication goes on.
  void on_full_load_done(const replicate::FullLoadResult& result) override;
  void on_cdc_tables(const std::vector<replicate::TableStatus>& tables) override;
  void on_checkpoint(replicate::Lsn confirmed) override;
  void on_capturing() override { callbacks_->on_running(); }
  // A CDC run reloaded tables (ReloadTables): FullLoadReloaded from now on.
  void on_tables_reloaded(const std::vector<replicate::TableStatus>& tables) override;
  void on_cdc_metrics(const replicate::CdcMetrics& metrics) override;

 private:
  // Both expect mutex_ held.
  void publish(std::optional<replicate::Clock::time_point> finish_date);
  void publish_tables();
  // CDC validation: tables whose applied changes grew since the last look wait for their
  // comparison; tables seen for the first time (a run without a load) are compared whole.
  void track_cdc_changes(const std::vector<replicate::TableStatus>& tables);
  // The Validation* CloudWatch metrics from the run's validation (any thread).
  void publish_validation_metrics();

  std::shared_ptr<TaskCallbacks> callbacks_;
  const DataPlaneExecutorOptions& options_;
  TaskTelemetryIdentity identity_;
  std::string task_id_;
  replicate::Clock::time_point task_start_;
  replicate::Clock::time_point load_start_;
  std::vector<replicate::TableStatus> tables_;
  std::vector<replicate::TableStatus> reloaded_tables_;
  const ReloadRequests& reloads_;
  RunValidation& validation_;
  std::map<replicate::QualifiedName, std::int64_t> applied_changes_;  // CDC validation's baseline
  std::mutex mutex_;  // the members above, against the validation's thread
  replicate::FullLoadProgress progress_;
  std::chrono::steady_clock::time_point last_report_{};
};

}  // namespace dagster_dms::server
