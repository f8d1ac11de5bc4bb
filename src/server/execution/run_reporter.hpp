#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/cdc.hpp"
#include "replicate/full_load.hpp"
#include "server/execution/data_plane_executor.hpp"
#include "server/execution/reload_requests.hpp"
#include "server/execution/run_end.hpp"
#include "server/execution/task_executor.hpp"
#include "server/telemetry/task_telemetry.hpp"

namespace dagster_dms::server {

// Turns the engine's events into the task's stored state, its log and its metrics. The engine
// calls one method at a time, so the state here needs no lock; reports are throttled because
// each one is a SQLite write under the control plane's lock.
class RunReporter final : public replicate::CdcObserver {
 public:
  RunReporter(std::shared_ptr<TaskCallbacks> callbacks, const DataPlaneExecutorOptions& options,
              std::string task_id, replicate::Clock::time_point task_start,
              TaskTelemetryIdentity identity, const ReloadRequests& reloads);

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
  void on_full_load_done(const replicate::FullLoadResult& result) override { finish(result); }
  void on_cdc_tables(const std::vector<replicate::TableStatus>& tables) override;
  void on_checkpoint(replicate::Lsn confirmed) override;
  void on_capturing() override { callbacks_->on_running(); }
  // A CDC run reloaded tables (ReloadTables): FullLoadReloaded from now on.
  void on_tables_reloaded(const std::vector<replicate::TableStatus>& tables) override;
  void on_cdc_metrics(const replicate::CdcMetrics& metrics) override;

 private:
  void publish(std::optional<replicate::Clock::time_point> finish_date);
  void publish_tables();

  std::shared_ptr<TaskCallbacks> callbacks_;
  const DataPlaneExecutorOptions& options_;
  TaskTelemetryIdentity identity_;
  std::string task_id_;
  replicate::Clock::time_point task_start_;
  replicate::Clock::time_point load_start_;
  std::vector<replicate::TableStatus> tables_;
  std::vector<replicate::TableStatus> reloaded_tables_;
  const ReloadRequests& reloads_;
  replicate::FullLoadProgress progress_;
  std::chrono::steady_clock::time_point last_report_{};
};

}  // namespace dagster_dms::server
