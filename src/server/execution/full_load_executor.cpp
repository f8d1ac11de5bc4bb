#include "server/execution/full_load_executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "replicate/cdc.hpp"
#include "replicate/recovering_run.hpp"
#include "replicate/replication_stream.hpp"

namespace dagster_dms::server {

namespace {

namespace rep = replicate;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kFullLoadFinished = "Stop Reason FULL_LOAD_ONLY_FINISHED";

bool is_postgres(const std::optional<std::string>& engine) {
  return engine == "postgres" || engine == "aurora-postgresql";
}

std::string endpoint_name(const dms::Endpoint& endpoint) {
  return endpoint.endpoint_identifier.value_or(endpoint.endpoint_arn.value_or("(unknown)"));
}

// DMS's SslMode values to libpq's sslmode. DMS's `none` means no TLS at all, which is libpq's
// `disable` (libpq's own default, `prefer`, would try TLS first).
std::string libpq_sslmode(const std::optional<std::string>& ssl_mode) {
  if (!ssl_mode || ssl_mode->empty()) return {};
  if (*ssl_mode == "none") return "disable";
  return *ssl_mode;  // require, verify-ca, verify-full: the same words in libpq
}

// The connection members live at the top of the endpoint; PostgreSQLSettings may carry them too
// (DMS mirrors them there), so either place counts, top level first.
rep::PgEndpoint pg_endpoint(const dms::Endpoint& endpoint,
                            const std::optional<std::string>& password) {
  const auto& settings = endpoint.postgresql_settings;
  const auto pick = [&](const std::optional<std::string>& top,
                        std::optional<std::string> dms::PostgreSQLSettings::*member) {
    if (top && !top->empty()) return *top;
    if (settings && (*settings).*member) return *((*settings).*member);
    return std::string();
  };
  rep::PgEndpoint out;
  out.host = pick(endpoint.server_name, &dms::PostgreSQLSettings::server_name);
  if (out.host.empty()) out.host = "127.0.0.1";
  if (endpoint.port) {
    out.port = static_cast<int>(*endpoint.port);
  } else if (settings && settings->port) {
    out.port = static_cast<int>(*settings->port);
  }
  out.dbname = pick(endpoint.database_name, &dms::PostgreSQLSettings::database_name);
  out.user = pick(endpoint.username, &dms::PostgreSQLSettings::username);
  if (password) out.password = aws::Secret(*password);
  out.sslmode = libpq_sslmode(endpoint.ssl_mode);
  return out;
}

// The s3 target as local files, or why these settings cannot be written the way DMS would.
std::variant<rep::FileTarget, std::string> file_target(const dms::Endpoint& endpoint,
                                                       const FullLoadExecutorOptions& options) {
  if (!options.s3_root) {
    return fmt::format(
        "Target endpoint {} is an s3 endpoint, but dms-local was started without --s3-root; "
        "restart it with --s3-root DIR to write s3 targets to a local directory.",
        endpoint_name(endpoint));
  }
  const dms::S3Settings settings = endpoint.s3_settings.value_or(dms::S3Settings{});
  if (settings.data_format && *settings.data_format != "csv") {
    return fmt::format("S3Settings.DataFormat {} is not supported by dms-local; use csv.",
                       *settings.data_format);
  }
  if (settings.compression_type && *settings.compression_type != "NONE" &&
      *settings.compression_type != "none") {
    return fmt::format("S3Settings.CompressionType {} is not supported by dms-local; use NONE.",
                       *settings.compression_type);
  }
  if (settings.preserve_transactions.value_or(false) || !settings.cdc_path.value_or("").empty()) {
    return std::string(
        "S3Settings.PreserveTransactions and CdcPath are not supported by dms-local; remove them "
        "to write CDC files per table.");
  }
  if (settings.date_partition_enabled.value_or(false)) {
    return std::string(
        "S3Settings.DatePartitionEnabled is not supported by dms-local; set it to false.");
  }
  if (settings.cdc_inserts_only.value_or(false) &&
      settings.cdc_inserts_and_updates.value_or(false)) {
    return std::string(
        "S3Settings.CdcInsertsOnly and CdcInsertsAndUpdates cannot both be true; set one of "
        "them to false.");
  }
  rep::FileTarget target;
  target.include_op_for_full_load = settings.include_op_for_full_load.value_or(false);
  target.cdc_inserts_only = settings.cdc_inserts_only.value_or(false);
  target.cdc_inserts_and_updates = settings.cdc_inserts_and_updates.value_or(false);
  target.timestamp_column_name = settings.timestamp_column_name.value_or("");
  if (settings.cdc_max_batch_interval) {
    if (*settings.cdc_max_batch_interval < 1) {
      return fmt::format(
          "S3Settings.CdcMaxBatchInterval {} is invalid; give a number of seconds "
          "of at least 1.",
          *settings.cdc_max_batch_interval);
    }
    target.cdc_max_batch_interval_seconds =
        static_cast<std::uint32_t>(std::min<std::int64_t>(*settings.cdc_max_batch_interval, 86400));
  }
  if (settings.cdc_min_file_size) {
    if (*settings.cdc_min_file_size < 1) {
      return fmt::format(
          "S3Settings.CdcMinFileSize {} is invalid; give a size in KB of at least 1.",
          *settings.cdc_min_file_size);
    }
    target.cdc_min_file_size_kb = static_cast<std::uint64_t>(*settings.cdc_min_file_size);
  }
  target.root = *options.s3_root;
  target.bucket = settings.bucket_name.value_or("");
  target.folder = settings.bucket_folder.value_or("");
  if (settings.max_file_size && *settings.max_file_size > 0) {
    target.max_file_size_kb = static_cast<std::uint64_t>(*settings.max_file_size);
  }
  if (settings.csv_delimiter) target.csv.delimiter = *settings.csv_delimiter;
  if (settings.csv_row_delimiter) target.csv.row_delimiter = *settings.csv_row_delimiter;
  if (settings.csv_null_value) target.csv.null_value = *settings.csv_null_value;
  if (settings.add_column_name) target.csv.add_column_name = *settings.add_column_name;
  if (target.bucket.empty()) {
    return fmt::format("Target endpoint {} has no S3Settings.BucketName.", endpoint_name(endpoint));
  }
  return target;
}

dms::TableStatistics table_statistics(const rep::TableStatus& table, bool reloading,
                                      bool reloaded) {
  dms::TableStatistics out;
  // DMS names a table by its source schema and name, whatever the mapping renamed it to.
  out.schema_name = table.source.schema;
  out.table_name = table.source.table;
  out.inserts = table.inserts;
  out.deletes = table.deletes;
  out.updates = table.updates;
  out.ddls = table.ddls;
  out.applied_inserts = table.applied_inserts;
  out.applied_deletes = table.applied_deletes;
  out.applied_updates = table.applied_updates;
  out.applied_ddls = table.applied_ddls;
  out.full_load_rows = table.full_load_rows;
  out.full_load_condtnl_chk_failed_rows = 0;
  out.full_load_error_rows = 0;
  out.full_load_start_time = table.full_load_start_time;
  out.full_load_end_time = table.full_load_end_time;
  out.full_load_reloaded = reloaded;
  out.last_update_time = table.last_update_time;
  // A reload shows as its own state until the table is loaded again (DMS's wording).
  out.table_state = reloading ? std::string("Table is being reloaded")
                              : std::string(rep::table_state_name(table.state));
  out.validation_pending_records = 0;
  out.validation_failed_records = 0;
  out.validation_suspended_records = 0;
  out.validation_state = "Not enabled";
  return out;
}

// The inverse of table_statistics(): a stored table as the engine knows it.
rep::TableStatus table_status(const dms::TableStatistics& stored) {
  rep::TableStatus out;
  out.source = {stored.schema_name.value_or(""), stored.table_name.value_or("")};
  out.target = out.source;
  const auto state = stored.table_state.value_or("");
  out.state = state == "Table error"       ? rep::TableState::kError
              : state == "Table cancelled" ? rep::TableState::kCancelled
                                           : rep::TableState::kCompleted;
  out.full_load_rows = stored.full_load_rows.value_or(0);
  out.full_load_start_time = stored.full_load_start_time;
  out.full_load_end_time = stored.full_load_end_time;
  out.last_update_time = stored.last_update_time.value_or(rep::Clock::now());
  out.inserts = stored.inserts.value_or(0);
  out.updates = stored.updates.value_or(0);
  out.deletes = stored.deletes.value_or(0);
  out.ddls = stored.ddls.value_or(0);
  out.applied_inserts = stored.applied_inserts.value_or(0);
  out.applied_updates = stored.applied_updates.value_or(0);
  out.applied_deletes = stored.applied_deletes.value_or(0);
  out.applied_ddls = stored.applied_ddls.value_or(0);
  return out;
}

// Turns the engine's events into the task's stored state. The engine calls one method at a
// time, so the state here needs no lock; reports are throttled because each one is a SQLite
// write under the control plane's lock.
class Reporter final : public rep::CdcObserver {
 public:
  using ReloadQuery = std::function<std::vector<rep::QualifiedName>()>;

  Reporter(std::shared_ptr<TaskCallbacks> callbacks, const FullLoadExecutorOptions& options,
           std::string task_id, rep::Clock::time_point task_start,
           const TaskTelemetryIdentity& identity, ReloadQuery reloads)
      : callbacks_(std::move(callbacks)),
        options_(options),
        identity_(identity),
        task_id_(std::move(task_id)),
        task_start_(task_start),
        load_start_(rep::Clock::now()),
        reloads_(std::move(reloads)) {}

  // A table of a reload run changed: it replaces the first load's status.
  void on_reload_table_changed(const rep::TableStatus& table) { on_table_changed(table); }

  // A reload run ended: its tables count as reloaded (FullLoadReloaded) from now on.
  void finish_reload(const rep::FullLoadResult& reload) {
    for (const auto& table : reload.tables) {
      replace(tables_, table);
      replace(reloaded_tables_, table);
    }
    publish(std::nullopt);
  }

  void on_tables_planned(const std::vector<rep::TableStatus>& tables) override {
    tables_ = tables;
    progress_.tables_queued = static_cast<int>(tables.size());
    // The plan is worth showing at once: every table "Before load".
    publish(std::nullopt);
  }

  void on_table_changed(const rep::TableStatus& table) override {
    // A table changing state (loading, completed, error) is shown at once, unthrottled: a long
    // load of another table may not report progress for a while. Row counts wait for the next
    // throttled report.
    const bool state_changed = std::none_of(tables_.begin(), tables_.end(), [&](const auto& known) {
      return known.source == table.source && known.state == table.state;
    });
    replace(tables_, table);
    if (state_changed) publish(std::nullopt);
  }

  void on_progress(const rep::FullLoadProgress& progress) override {
    progress_ = progress;
    if (options_.telemetry != nullptr) {
      options_.telemetry->full_load_totals(identity_, progress.rows_loaded, progress.bytes_loaded);
    }
    if (SteadyClock::now() - last_report_ >= options_.report_interval) publish(std::nullopt);
  }

  void on_log(rep::LogSeverity severity, std::string_view component,
              std::string_view message) override {
    const char letter = severity == rep::LogSeverity::kError     ? 'E'
                        : severity == rep::LogSeverity::kWarning ? 'W'
                                                                 : 'I';
    if (options_.telemetry != nullptr)
      options_.telemetry->log(identity_, letter, component, message);
    if (options_.logger == nullptr) return;
    const LogLevel level = severity == rep::LogSeverity::kError     ? LogLevel::kError
                           : severity == rep::LogSeverity::kWarning ? LogLevel::kWarning
                                                                    : LogLevel::kInfo;
    if (!options_.logger->enabled(level)) return;
    options_.logger->log(
        level, fmt::format("task {}: [{:<16}]{}:  {}", task_id_, component, letter, message));
  }

  void on_full_load_done(const rep::FullLoadResult& result) override { finish(result); }

  void on_cdc_tables(const std::vector<rep::TableStatus>& tables) override {
    tables_ = tables;
    publish_tables();
  }

  void on_checkpoint(rep::Lsn confirmed) override {
    callbacks_->on_checkpoint(rep::recovery_checkpoint(confirmed));
  }

  void on_capturing() override { callbacks_->on_running(); }

  // A CDC run reloaded tables (ReloadTables): FullLoadReloaded from now on.
  void on_tables_reloaded(const std::vector<rep::TableStatus>& tables) override {
    for (const auto& table : tables) {
      replace(tables_, table);
      replace(reloaded_tables_, table);
    }
    publish_tables();
  }

  void on_cdc_metrics(const rep::CdcMetrics& metrics) override {
    if (options_.telemetry == nullptr) return;
    auto& telemetry = *options_.telemetry;
    telemetry.gauge(identity_, "CDCLatencySource", "Seconds", metrics.latency_source_seconds);
    telemetry.gauge(identity_, "CDCLatencyTarget", "Seconds", metrics.latency_target_seconds);
    telemetry.gauge(identity_, "CDCIncomingChanges", "Count", metrics.incoming_changes);
    telemetry.gauge(identity_, "CDCThroughputRowsSource", "Count/Second",
                    metrics.throughput_rows_source);
    telemetry.gauge(identity_, "CDCThroughputRowsTarget", "Count/Second",
                    metrics.throughput_rows_target);
    telemetry.gauge(identity_, "CDCThroughputBandwidthSource", "Kilobytes/Second",
                    metrics.throughput_bandwidth_source_kb);
    telemetry.gauge(identity_, "CDCThroughputBandwidthTarget", "Kilobytes/Second",
                    metrics.throughput_bandwidth_target_kb);
    telemetry.gauge(identity_, "CDCChangesMemorySource", "Megabytes",
                    metrics.changes_memory_source_mb);
    telemetry.gauge(identity_, "CDCChangesMemoryTarget", "Megabytes",
                    metrics.changes_memory_target_mb);
  }

  // The last word: the engine's final table list and progress, unthrottled.
  void finish(const rep::FullLoadResult& result) {
    tables_ = result.tables;
    for (const auto& table : reloaded_tables_) replace(tables_, table);
    progress_ = result.progress;
    load_start_ = result.start_time;
    if (options_.telemetry != nullptr) {
      options_.telemetry->full_load_totals(identity_, progress_.rows_loaded,
                                           progress_.bytes_loaded);
    }
    std::optional<rep::Clock::time_point> finish_date;
    if (result.outcome == rep::FullLoadOutcome::kFinished) {
      finish_date = result.end_time;
      // A load with nothing left to do is complete, as DMS shows it (100%, even with no tables).
      progress_.percent = 100;
    }
    publish(finish_date);
  }

 private:
  void publish(std::optional<rep::Clock::time_point> finish_date) {
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

  void publish_tables() {
    const auto reloading = reloads_ ? reloads_() : std::vector<rep::QualifiedName>{};
    const auto contains = [](const auto& list, const rep::QualifiedName& name) {
      return std::any_of(list.begin(), list.end(), [&](const auto& item) {
        if constexpr (std::is_same_v<std::decay_t<decltype(item)>, rep::QualifiedName>) {
          return item == name;
        } else {
          return item.source == name;
        }
      });
    };
    std::vector<dms::TableStatistics> statistics;
    statistics.reserve(tables_.size());
    for (const auto& table : tables_) {
      statistics.push_back(table_statistics(table, contains(reloading, table.source),
                                            contains(reloaded_tables_, table.source)));
    }
    callbacks_->on_table_statistics(statistics);
  }

  static void replace(std::vector<rep::TableStatus>& tables, const rep::TableStatus& table) {
    for (auto& known : tables) {
      if (known.source == table.source) {
        known = table;
        return;
      }
    }
    tables.push_back(table);
  }

  std::shared_ptr<TaskCallbacks> callbacks_;
  const FullLoadExecutorOptions& options_;
  const TaskTelemetryIdentity& identity_;
  std::string task_id_;
  rep::Clock::time_point task_start_;
  rep::Clock::time_point load_start_;
  std::vector<rep::TableStatus> tables_;
  std::vector<rep::TableStatus> reloaded_tables_;
  ReloadQuery reloads_;
  rep::FullLoadProgress progress_;
  SteadyClock::time_point last_report_{};
};

// Watches a reload run: its table changes and log lines go to the task's reporter; its table
// plan and overall progress do not (the task's progress is the first load's).
class ReloadObserver final : public rep::FullLoadObserver {
 public:
  explicit ReloadObserver(Reporter& reporter) : reporter_(reporter) {}
  void on_table_changed(const rep::TableStatus& table) override {
    reporter_.on_reload_table_changed(table);
  }
  void on_log(rep::LogSeverity severity, std::string_view component,
              std::string_view message) override {
    reporter_.on_log(severity, component, message);
  }

 private:
  Reporter& reporter_;
};

// Sleeps `duration`, or less when the stop token fires first.
void wait_unless_stopped(std::chrono::milliseconds duration, const std::stop_token& stop) {
  if (duration.count() <= 0) return;
  std::mutex mutex;
  std::condition_variable_any woken;
  std::unique_lock lock(mutex);
  woken.wait_for(lock, stop, duration, [] { return false; });
}

// The CDC part of a cdc or full-load-and-cdc run; nullopt for a full-load task.
std::optional<rep::CdcRequest> cdc_request(const TaskRun& run,
                                           const TaskTelemetryIdentity& identity) {
  const auto migration = run.task.migration_type.value_or("full-load");
  if (migration == "full-load") return std::nullopt;
  rep::CdcRequest request;
  request.slot = rep::replication_slot_name(identity.task_resource_id);
  request.task_name = identity.task_resource_id;
  // make_full_load_request has refused values that do not parse.
  if (run.task.cdc_stop_position) {
    request.stop_position = rep::parse_cdc_stop_position(*run.task.cdc_stop_position);
  }
  // A start position belongs to a cdc task: a full-load-and-cdc run starts where its load's
  // snapshot ends.
  if (migration == "cdc" && run.cdc_start_position) {
    request.start_position = rep::parse_cdc_start_position(*run.cdc_start_position);
  }
  request.full_load = migration == "full-load-and-cdc";
  // resume-processing continues from the stored position. Without one (the run before was
  // stopped during its full load) it starts afresh, as DMS reloads unfinished tables. A
  // CdcStartPosition given with the start overrides it.
  if (run.start_type == "resume-processing" && run.task.recovery_checkpoint &&
      !request.start_position) {
    request.resume_from = rep::parse_recovery_checkpoint(*run.task.recovery_checkpoint);
  }
  if (request.resume_from) {
    for (const auto& stored : run.table_statistics) {
      request.previous_tables.push_back(table_status(stored));
    }
  }
  return request;
}

// A failed run, with the stop reason its kind of error gives.
void report_failure(TaskCallbacks& callbacks, const std::string& message, rep::ErrorKind kind) {
  if (kind == rep::ErrorKind::kFatal) {
    callbacks.on_failed(message);
  } else {
    callbacks.on_failed_recoverable(message);
  }
}

// Runs a CDC task to its end and reports how it ended. The task stays `running` while it
// replicates; only a stop or an error ends it.
// `engine_ended` runs as soon as the engine returns, before anything is reported.
void run_cdc_task(const rep::CdcRequest& request, Reporter& reporter, TaskCallbacks& callbacks,
                  TaskTelemetry* telemetry, const TaskTelemetryIdentity& identity,
                  const std::string& task_id, const std::function<void()>& engine_ended) {
  const auto result = rep::run_cdc_recovering(request, reporter);
  engine_ended();
  // Tables whose reload was asked for but never began are not being reloaded any more.
  reporter.on_cdc_tables(result.tables);
  if (telemetry != nullptr) {
    if (result.outcome == rep::CdcOutcome::kFailed) {
      telemetry->log(
          identity, 'E', "TASK_MANAGER",
          fmt::format("Task '{}' failed ({}): {}", task_id,
                      rep::failure_stop_reason(result.error_kind), result.failure_message));
    } else if (result.outcome == rep::CdcOutcome::kFinished) {
      telemetry->log(identity, 'I', "TASK_MANAGER",
                     fmt::format("Task '{}' finished: {}.", task_id, result.stop_reason));
    } else {
      telemetry->log(identity, 'I', "TASK_MANAGER",
                     fmt::format("Task '{}' stopped on request: Stop Reason NORMAL.", task_id));
    }
    telemetry->run_ended(identity);
  }
  if (result.outcome == rep::CdcOutcome::kFailed) {
    report_failure(callbacks, result.failure_message, result.error_kind);
  } else if (result.outcome == rep::CdcOutcome::kFinished) {
    callbacks.on_finished(result.stop_reason);
  } else {
    callbacks.on_stopped();
  }
}

}  // namespace

std::variant<rep::FullLoadRequest, std::string> make_full_load_request(
    const TaskRun& run, const FullLoadExecutorOptions& options) {
  const auto& task = run.task;
  const auto task_id = task.replication_task_identifier.value_or("(unknown)");
  const auto migration = task.migration_type.value_or("full-load");
  if (migration != "full-load" && !is_postgres(run.target.engine_name) &&
      run.target.engine_name != "s3") {
    return fmt::format(
        "Task {} has MigrationType {}; dms-local captures changes to postgres, "
        "aurora-postgresql and s3 targets only.",
        task_id, migration);
  }
  if (!is_postgres(run.source.engine_name)) {
    return fmt::format(
        "Source endpoint {} has engine {}; dms-local reads from postgres and aurora-postgresql "
        "sources only.",
        endpoint_name(run.source), run.source.engine_name.value_or("(none)"));
  }
  if (migration != "full-load" && task.cdc_stop_position &&
      !rep::parse_cdc_stop_position(*task.cdc_stop_position)) {
    return fmt::format(
        "Task {} has CdcStopPosition '{}'; expected server_time:YYYY-MM-DDTHH:MM:SS or "
        "commit_time:YYYY-MM-DDTHH:MM:SS.",
        task_id, *task.cdc_stop_position);
  }
  if (migration == "cdc" && run.cdc_start_position &&
      !rep::parse_cdc_start_position(*run.cdc_start_position)) {
    return fmt::format(
        "Task {} has CdcStartPosition '{}'; expected an LSN such as 4AF/B00000D0 or a "
        "RecoveryCheckpoint.",
        task_id, *run.cdc_start_position);
  }
  rep::FullLoadRequest request;
  request.source = pg_endpoint(run.source, run.source_password);
  if (is_postgres(run.target.engine_name)) {
    request.target = rep::PostgresTarget{pg_endpoint(run.target, run.target_password)};
  } else if (run.target.engine_name == "s3") {
    auto target = file_target(run.target, options);
    if (auto* message = std::get_if<std::string>(&target)) return std::move(*message);
    request.target = std::get<rep::FileTarget>(std::move(target));
  } else {
    return fmt::format(
        "Target endpoint {} has engine {}; dms-local writes to postgres, aurora-postgresql and s3 "
        "targets only.",
        endpoint_name(run.target), run.target.engine_name.value_or("(none)"));
  }
  request.table_mappings = task.table_mappings.value_or("");
  request.task_settings = task.replication_task_settings.value_or("");
  return request;
}

FullLoadExecutor::FullLoadExecutor(FullLoadExecutorOptions options)
    : options_(std::move(options)) {}

FullLoadExecutor::~FullLoadExecutor() {
  shutdown();
}

void FullLoadExecutor::reap_finished_locked() {
  for (auto it = runs_.begin(); it != runs_.end();) {
    // A done run's thread has nothing left to do but return: joining it is immediate.
    if (it->second->done) {
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
}

void FullLoadExecutor::start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) {
  const auto arn = run.task.replication_task_arn.value_or("");
  const auto identity = task_telemetry_identity(run);
  TaskTelemetry* const telemetry = options_.telemetry;
  if (telemetry != nullptr) {
    telemetry->log(
        identity, 'I', "TASK_MANAGER",
        fmt::format("Task '{}' is starting: {}, start type {}.", identity.task_identifier,
                    run.task.migration_type.value_or("full-load"), run.start_type));
  }
  auto prepared = make_full_load_request(run, options_);
  if (auto* message = std::get_if<std::string>(&prepared)) {
    if (telemetry != nullptr) {
      telemetry->log(identity, 'E', "TASK_MANAGER",
                     fmt::format("Task '{}' failed ({}): {}", identity.task_identifier,
                                 "Stop Reason FATAL_ERROR", *message));
      telemetry->run_ended(identity);
    }
    callbacks->on_failed(*message);
    return;
  }

  std::unique_ptr<Run> previous;
  auto next = std::make_unique<Run>();
  Run* const slot = next.get();
  {
    const std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    reap_finished_locked();
    if (auto it = runs_.find(arn); it != runs_.end()) previous = std::move(it->second);
    runs_[arn] = std::move(next);
  }
  // An earlier run of the same task is over as far as the control plane knows; make sure its
  // thread is too before a second load writes the same tables. Outside our lock: its callbacks
  // may still be reporting (and are ignored as a past run's).
  if (previous) {
    previous->thread.request_stop();
    previous.reset();
  }

  const auto task_id = run.task.replication_task_identifier.value_or(arn);
  const auto task_start =
      run.task.replication_task_stats && run.task.replication_task_stats->start_date
          ? *run.task.replication_task_stats->start_date
          : rep::Clock::now();
  if (options_.logger) {
    options_.logger->log(LogLevel::kInfo,
                         fmt::format("task {}: full load starting ({})", task_id, run.start_type));
  }
  slot->thread = std::jthread([this, slot, task_id, task_start, identity, telemetry,
                               request = std::get<rep::FullLoadRequest>(std::move(prepared)),
                               cdc = cdc_request(run, identity),
                               callbacks = std::move(callbacks)](std::stop_token stop) mutable {
    try {
      request.stop = std::move(stop);
      Reporter reporter(callbacks, options_, task_id, task_start, identity, [slot] {
        const std::lock_guard lock(slot->reload_mutex);
        auto names = slot->pending_reloads;
        names.insert(names.end(), slot->reloading.begin(), slot->reloading.end());
        return names;
      });
      if (cdc) {
        // ReloadTables: the engine takes the requests while it replicates (see cdc_reload.hpp).
        cdc->take_reloads = [slot] {
          const std::lock_guard lock(slot->reload_mutex);
          auto taken = std::exchange(slot->pending_reloads, {});
          slot->reloading.insert(slot->reloading.end(), taken.begin(), taken.end());
          return taken;
        };
        cdc->reloads_finished = [slot](const std::vector<rep::QualifiedName>& tables) {
          const std::lock_guard lock(slot->reload_mutex);
          std::erase_if(slot->reloading, [&](const rep::QualifiedName& name) {
            return std::find(tables.begin(), tables.end(), name) != tables.end();
          });
        };
        cdc->load = std::move(request);
        if (options_.cdc_apply_delay) {
          cdc->before_commit = [this](const std::stop_token& stop_commit) {
            wait_unless_stopped(options_.cdc_apply_delay(), stop_commit);
          };
        }
        run_cdc_task(*cdc, reporter, *callbacks, telemetry, identity, task_id, [slot] {
          const std::lock_guard lock(slot->reload_mutex);
          slot->closed = true;
          slot->pending_reloads.clear();
          slot->reloading.clear();
        });
      } else {
        auto result = rep::run_full_load_recovering(request, reporter);
        // ReloadTables requests, batch by batch, until none is left; then the run takes no more.
        while (result.outcome == rep::FullLoadOutcome::kFinished) {
          {
            const std::lock_guard lock(slot->reload_mutex);
            slot->reloading.clear();
            if (slot->pending_reloads.empty()) {
              slot->closed = true;
              break;
            }
            slot->reloading.swap(slot->pending_reloads);
          }
          auto reload_request = request;
          {
            const std::lock_guard lock(slot->reload_mutex);
            reload_request.only_tables = slot->reloading;
          }
          reporter.on_log(
              rep::LogSeverity::kInfo, "TASK_MANAGER",
              fmt::format("Reload for {} table(s) requested.", reload_request.only_tables.size()));
          ReloadObserver observer(reporter);
          const auto reload = rep::run_full_load(reload_request, observer);
          {
            // Reported with the lock released: publishing asks which tables are reloading.
            const std::lock_guard lock(slot->reload_mutex);
            slot->reloading.clear();
          }
          reporter.finish_reload(reload);
          if (reload.outcome == rep::FullLoadOutcome::kStopped) {
            result.outcome = rep::FullLoadOutcome::kStopped;
          } else if (reload.outcome == rep::FullLoadOutcome::kFailed) {
            // The task keeps its finished load; the reload's failure is logged against it.
            reporter.on_log(rep::LogSeverity::kError, "TASK_MANAGER",
                            fmt::format("Reload failed: {}", reload.failure_message));
          }
        }
        {
          const std::lock_guard lock(slot->reload_mutex);
          slot->closed = true;
        }
        reporter.finish(result);
        if (telemetry != nullptr) {
          switch (result.outcome) {
            case rep::FullLoadOutcome::kFinished:
              telemetry->log(identity, 'I', "TASK_MANAGER",
                             fmt::format("Task '{}' finished: {}. {} rows loaded in {} tables.",
                                         task_id, kFullLoadFinished, result.progress.rows_loaded,
                                         result.progress.tables_loaded));
              break;
            case rep::FullLoadOutcome::kStopped:
              telemetry->log(
                  identity, 'I', "TASK_MANAGER",
                  fmt::format("Task '{}' stopped on request: Stop Reason NORMAL.", task_id));
              break;
            case rep::FullLoadOutcome::kFailed:
              telemetry->log(
                  identity, 'E', "TASK_MANAGER",
                  fmt::format("Task '{}' failed ({}): {}", task_id,
                              rep::failure_stop_reason(result.error_kind), result.failure_message));
              break;
          }
          telemetry->run_ended(identity);
        }
        switch (result.outcome) {
          case rep::FullLoadOutcome::kFinished:
            callbacks->on_finished(kFullLoadFinished);
            break;
          case rep::FullLoadOutcome::kStopped:
            callbacks->on_stopped();
            break;
          case rep::FullLoadOutcome::kFailed:
            report_failure(*callbacks, result.failure_message, result.error_kind);
            break;
        }
      }
    } catch (const std::exception& error) {
      // Never let a thread end the process: the task fails and says why.
      try {
        callbacks->on_failed(fmt::format("dms-local internal error: {}", error.what()));
      } catch (const std::exception& report_error) {
        if (options_.logger) {
          options_.logger->log(LogLevel::kError,
                               fmt::format("task {}: cannot record the end of a run: {}", task_id,
                                           report_error.what()));
        }
      }
    }
    slot->done = true;
  });
}

void FullLoadExecutor::stop(const std::string& task_arn) {
  const std::lock_guard lock(mutex_);
  const auto it = runs_.find(task_arn);
  if (it == runs_.end()) return;
  // The engine notices between chunks of rows and ends with kStopped -> on_stopped.
  it->second->thread.request_stop();
}

std::vector<std::string> FullLoadExecutor::reload(const std::string& task_arn,
                                                  const std::vector<dms::TableToReload>& tables) {
  const std::lock_guard lock(mutex_);
  const auto it = runs_.find(task_arn);
  const auto refuse = [&](const std::string& why) {
    return std::vector<std::string>(tables.size(), why);
  };
  if (it == runs_.end() || it->second->done) return refuse("the task's run has ended");
  Run& run = *it->second;
  const std::lock_guard reload_lock(run.reload_mutex);
  if (run.closed) return refuse("the task's run is ending");
  for (const auto& table : tables) {
    const rep::QualifiedName name{table.schema_name, table.table_name};
    if (std::find(run.pending_reloads.begin(), run.pending_reloads.end(), name) ==
        run.pending_reloads.end()) {
      run.pending_reloads.push_back(name);
    }
  }
  return std::vector<std::string>(tables.size());
}

void FullLoadExecutor::task_deleted(const TaskRun& run) {
  const auto migration = run.task.migration_type.value_or("full-load");
  if (migration == "full-load" || !is_postgres(run.source.engine_name)) return;
  const auto identity = task_telemetry_identity(run);
  const auto slot = rep::replication_slot_name(identity.task_resource_id);
  try {
    rep::drop_cdc_artifacts(pg_endpoint(run.source, run.source_password), slot);
    if (options_.logger) {
      options_.logger->log(LogLevel::kInfo,
                           fmt::format("task {}: replication slot {} and its publications dropped",
                                       identity.task_identifier, slot));
    }
  } catch (const std::exception& error) {
    // The task is gone either way, as DMS deletes a task whose cleanup failed (event 0082).
    if (options_.logger) {
      options_.logger->log(LogLevel::kWarning,
                           fmt::format("task {}: cannot drop replication slot {} on the source: {}",
                                       identity.task_identifier, slot, error.what()));
    }
  }
}

void FullLoadExecutor::shutdown() {
  std::map<std::string, std::unique_ptr<Run>> runs;
  {
    const std::lock_guard lock(mutex_);
    shutting_down_ = true;
    runs.swap(runs_);
  }
  for (auto& [arn, run] : runs) run->thread.request_stop();
  // Destroying the runs joins their threads (outside our lock: a run's last report may wait
  // for the control plane).
  runs.clear();
}

}  // namespace dagster_dms::server
