#include "server/execution/run_reporter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

#include "server/execution/table_statistics_mapping.hpp"

namespace dagster_dms::server {

namespace {

namespace rep = replicate;
using SteadyClock = std::chrono::steady_clock;

// Puts `table` in place of the entry for the same source table, or adds it.
void replace(std::vector<rep::TableStatus>& tables, const rep::TableStatus& table) {
  for (auto& known : tables) {
    if (known.source == table.source) {
      known = table;
      return;
    }
  }
  tables.push_back(table);
}

bool contains(const std::vector<rep::QualifiedName>& names, const rep::QualifiedName& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool contains(const std::vector<rep::TableStatus>& tables, const rep::QualifiedName& name) {
  return std::any_of(tables.begin(), tables.end(),
                     [&](const rep::TableStatus& table) { return table.source == name; });
}

// The CDC metrics a run publishes as gauges, with the names and units CloudWatch shows.
struct CdcGauge {
  std::string_view metric_name;
  std::string_view unit;
  double rep::CdcMetrics::*value;
};
constexpr std::array<CdcGauge, 9> kCdcGauges = {{
    {"CDCLatencySource", "Seconds", &rep::CdcMetrics::latency_source_seconds},
    {"CDCLatencyTarget", "Seconds", &rep::CdcMetrics::latency_target_seconds},
    {"CDCIncomingChanges", "Count", &rep::CdcMetrics::incoming_changes},
    {"CDCThroughputRowsSource", "Count/Second", &rep::CdcMetrics::throughput_rows_source},
    {"CDCThroughputRowsTarget", "Count/Second", &rep::CdcMetrics::throughput_rows_target},
    {"CDCThroughputBandwidthSource", "Kilobytes/Second",
     &rep::CdcMetrics::throughput_bandwidth_source_kb},
    {"CDCThroughputBandwidthTarget", "Kilobytes/Second",
     &rep::CdcMetrics::throughput_bandwidth_target_kb},
    {"CDCChangesMemorySource", "Megabytes", &rep::CdcMetrics::changes_memory_source_mb},
    {"CDCChangesMemoryTarget", "Megabytes", &rep::CdcMetrics::changes_memory_target_mb},
}};

}  // namespace

RunReporter::RunReporter(std::shared_ptr<TaskCallbacks> callbacks,
                         const DataPlaneExecutorOptions& options, std::string task_id,
                         rep::Clock::time_point task_start, TaskTelemetryIdentity identity,
                         const ReloadRequests& reloads, RunValidation& validation)
    : callbacks_(std::move(callbacks)),
      options_(options),
      identity_(std::move(identity)),
      task_id_(std::move(task_id)),
      task_start_(task_start),
      load_start_(rep::Clock::now()),
      reloads_(reloads),
      validation_(validation) {
  validation_.set_listener(
      [this] {
        publish_validation_metrics();
        const std::lock_guard lock(mutex_);
        publish_tables();
      },
      [this](rep::LogSeverity severity, std::string_view message) {
        on_log(severity, "VALIDATOR", message);
      });
}

RunReporter::~RunReporter() {
  // The validation may outlive this reporter: it must not call back into it.
  validation_.set_listener({}, {});
}

void RunReporter::finish_reload(const rep::FullLoadResult& reload) {
  const std::lock_guard lock(mutex_);
  for (const auto& table : reload.tables) {
    replace(tables_, table);
    replace(reloaded_tables_, table);
  }
  publish(std::nullopt);
}

void RunReporter::on_tables_planned(const std::vector<rep::TableStatus>& tables) {
  validation_.tables_known(tables);
  const std::lock_guard lock(mutex_);
  tables_ = tables;
  progress_.tables_queued = static_cast<int>(tables.size());
  // The plan is worth showing at once: every table "Before load".
  publish(std::nullopt);
}

void RunReporter::on_table_changed(const rep::TableStatus& table) {
  // A table changing state (loading, completed, error) is shown at once, unthrottled: a long
  // load of another table may not report progress for a while. Row counts wait for the next
  // throttled report.
  const std::lock_guard lock(mutex_);
  const bool state_changed = std::none_of(tables_.begin(), tables_.end(), [&](const auto& known) {
    return known.source == table.source && known.state == table.state;
  });
  replace(tables_, table);
  if (state_changed) publish(std::nullopt);
}

void RunReporter::on_progress(const rep::FullLoadProgress& progress) {
  const std::lock_guard lock(mutex_);
  progress_ = progress;
  if (options_.telemetry != nullptr) {
    options_.telemetry->full_load_totals(identity_, progress.rows_loaded, progress.bytes_loaded);
  }
  if (SteadyClock::now() - last_report_ >= options_.report_interval) publish(std::nullopt);
}

void RunReporter::on_log(rep::LogSeverity severity, std::string_view component,
                         std::string_view message) {
  const char letter = severity == rep::LogSeverity::kError     ? 'E'
                      : severity == rep::LogSeverity::kWarning ? 'W'
                                                               : 'I';
  if (options_.telemetry != nullptr) options_.telemetry->log(identity_, letter, component, message);
  if (options_.logger == nullptr) return;
  const LogLevel level = severity == rep::LogSeverity::kError     ? LogLevel::kError
                         : severity == rep::LogSeverity::kWarning ? LogLevel::kWarning
                                                                  : LogLevel::kInfo;
  if (!options_.logger->enabled(level)) return;
  options_.logger->log(
      level, fmt::format("task {}: [{:<16}]{}:  {}", task_id_, component, letter, message));
}

void RunReporter::on_cdc_tables(const std::vector<rep::TableStatus>& tables) {
  track_cdc_changes(tables);
  const std::lock_guard lock(mutex_);
  tables_ = tables;
  publish_tables();
}

void RunReporter::publish_validation_metrics() {
  if (options_.telemetry == nullptr) return;
  const auto totals = validation_.totals();
  const auto gauge = [&](std::string_view name, std::string_view unit, double value) {
    options_.telemetry->gauge(identity_, name, unit, value);
  };
  // DMS's Validation* metrics (CHAP_Validating), over the run's latest comparisons.
  const auto compared = static_cast<double>(totals.compared_records);
  const auto failed = static_cast<double>(totals.failed_records);
  gauge("ValidationAttemptedRecordCount", "Count", compared);
  gauge("ValidationSucceededRecordCount", "Count", std::max(0.0, compared - failed));
  gauge("ValidationFailedOverallCount", "Count", failed);
  gauge("ValidationSuspendedOverallCount", "Count", static_cast<double>(totals.suspended_records));
  gauge("ValidationPendingOverallCount", "Count", static_cast<double>(totals.pending_records));
  gauge("ValidationBulkQuerySourceLatency", "Seconds", totals.source_query_seconds);
  gauge("ValidationBulkQueryTargetLatency", "Seconds", totals.target_query_seconds);
}

void RunReporter::on_full_load_done(const rep::FullLoadResult& result) {
  if (result.outcome == rep::FullLoadOutcome::kFinished) {
    {
      const std::lock_guard lock(mutex_);
      for (const auto& table : result.tables) {
        applied_changes_[table.source] =
            table.applied_inserts + table.applied_updates + table.applied_deletes;
      }
    }
    validation_.queue(result.tables);
  }
  finish(result);
}

void RunReporter::track_cdc_changes(const std::vector<rep::TableStatus>& tables) {
  if (!validation_.enabled()) return;
  std::vector<rep::TableStatus> unseen;
  std::vector<std::pair<rep::TableStatus, std::int64_t>> changed;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& table : tables) {
      const auto applied = table.applied_inserts + table.applied_updates + table.applied_deletes;
      const auto known = applied_changes_.find(table.source);
      if (known == applied_changes_.end()) {
        unseen.push_back(table);
      } else if (applied > known->second) {
        changed.emplace_back(table, applied - known->second);
      }
      applied_changes_[table.source] = applied;
    }
  }
  // Outside the lock: the validation reports back through it.
  if (!unseen.empty()) validation_.queue(unseen);
  for (const auto& [table, changes] : changed) validation_.changed(table, changes);
}

void RunReporter::on_checkpoint(rep::Lsn confirmed) {
  callbacks_->on_checkpoint(rep::recovery_checkpoint(confirmed));
}

void RunReporter::on_tables_reloaded(const std::vector<rep::TableStatus>& tables) {
  {
    const std::lock_guard lock(mutex_);
    for (const auto& table : tables) {
      applied_changes_[table.source] =
          table.applied_inserts + table.applied_updates + table.applied_deletes;
    }
  }
  // Reloaded data is compared again.
  validation_.queue(tables);
  const std::lock_guard lock(mutex_);
  for (const auto& table : tables) {
    replace(tables_, table);
    replace(reloaded_tables_, table);
  }
  publish_tables();
}

void RunReporter::on_cdc_metrics(const rep::CdcMetrics& metrics) {
  if (options_.telemetry == nullptr) return;
  for (const auto& gauge : kCdcGauges) {
    options_.telemetry->gauge(identity_, gauge.metric_name, gauge.unit, metrics.*gauge.value);
  }
}

void RunReporter::finish(const rep::FullLoadResult& result) {
  const std::lock_guard lock(mutex_);
  tables_ = result.tables;
  for (const auto& table : reloaded_tables_) replace(tables_, table);
  progress_ = result.progress;
  load_start_ = result.start_time;
  if (options_.telemetry != nullptr) {
    options_.telemetry->full_load_totals(identity_, progress_.rows_loaded, progress_.bytes_loaded);
  }
  std::optional<rep::Clock::time_point> finish_date;
  if (result.outcome == rep::FullLoadOutcome::kFinished) {
    finish_date = result.end_time;
    // A load with nothing left to do is complete, as DMS shows it (100%, even with no tables).
    progress_.percent = 100;
  }
  publish(finish_date);
}

void RunReporter::report_end(const RunEnd& end) {
  report_run_end(end, *callbacks_, options_.telemetry, identity_, task_id_);
}

void RunReporter::publish(std::optional<rep::Clock::time_point> finish_date) {
  last_report_ = SteadyClock::now();
  dms::ReplicationTaskStats stats;
  stats.full_load_progress_percent = progress_.percent;
  stats.tables_loaded = progress_.tables_loaded;
  stats.tables_loading = progress_.tables_loading;
  stats.tables_queued = progress_.tables_queued;
  stats.tables_errored = progress_.tables_errored;
  // Measured from the task's StartDate, as the control plane does when the run ends.
  stats.elapsed_time_millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(rep::Clock::now() - task_start_)
          .count();
  stats.full_load_start_date = load_start_;
  stats.full_load_finish_date = finish_date;
  callbacks_->on_progress(stats);
  publish_tables();
}

void RunReporter::publish_tables() {
  const auto reloading = reloads_.in_progress();
  std::vector<dms::TableStatistics> statistics;
  statistics.reserve(tables_.size());
  for (const auto& table : tables_) {
    statistics.push_back(table_statistics(table, contains(reloading, table.source),
                                          contains(reloaded_tables_, table.source),
                                          validation_.state_of(table.source)));
  }
  callbacks_->on_table_statistics(statistics);
}

}  // namespace dagster_dms::server
