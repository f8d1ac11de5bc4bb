#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "replicate/catalog.hpp"
#include "replicate/csv_writer.hpp"
#include "replicate/pg_connection.hpp"
#include "replicate/recoverable_errors.hpp"
#include "replicate/table_source.hpp"

namespace dagster_dms::replicate {

using Clock = std::chrono::system_clock;

// A PostgreSQL database as the target.
struct PostgresTarget {
  PgEndpoint endpoint;
};

// The s3 target, written to a local directory: `<root>/<bucket>/<folder>/<schema>/<table>/`
// (s3_path.hpp says how each part is checked and encoded so that nothing leaves the root).
struct FileTarget {
  std::filesystem::path root;
  std::string bucket;
  std::string folder;                        // S3Settings.BucketFolder; may be empty
  std::uint64_t max_file_size_kb = 1048576;  // S3Settings.MaxFileSize (1 GB)
  CsvFormat csv;
  // S3Settings for the Op column and CDC files (DMS's defaults; see DMS-BEHAVIOUR §5.3).
  bool include_op_for_full_load = false;  // full-load rows start with `I`
  bool cdc_inserts_only = false;          // CDC files keep inserts only
  bool cdc_inserts_and_updates = false;   // CDC files keep inserts and updates
  std::string timestamp_column_name;      // when set: a last column with the commit/write time
  std::uint32_t cdc_max_batch_interval_seconds = 60;  // CdcMaxBatchInterval
  std::uint64_t cdc_min_file_size_kb = 32000;         // CdcMinFileSize
};

// `<bucket>/[<folder>/]<schema>/<table>` below the root: where a table's files go. Throws
// S3PathError when the bucket or folder is not valid.
std::vector<std::string> table_folder(const FileTarget& target, const QualifiedName& table);

struct FullLoadRequest {
  PgEndpoint source;
  std::variant<PostgresTarget, FileTarget> target;
  std::string table_mappings;  // the TableMappings JSON document
  std::string task_settings;   // ReplicationTaskSettings JSON; empty = DMS defaults
  std::stop_token stop;        // checked between chunks of rows
  // When not empty, only these source tables (among those the mappings select) are loaded:
  // how ReloadTables reloads a few tables of a task.
  std::vector<QualifiedName> only_tables;
  // An exported snapshot (a CDC slot's consistent point) every table is read in, so the load
  // and the changes after it meet exactly; empty: each table reads the latest data.
  std::string source_snapshot;
  // A source other than PostgreSQL (MySQL family); when set, `source` is not used.
  std::shared_ptr<TableSource> other_source;
};

// DescribeTableStatistics' TableState values.
enum class TableState { kBeforeLoad, kFullLoad, kCompleted, kCancelled, kError };
std::string_view table_state_name(TableState state);

struct TableStatus {
  QualifiedName source;
  QualifiedName target;
  TableState state = TableState::kBeforeLoad;
  std::int64_t full_load_rows = 0;
  double estimated_rows = 0;
  std::optional<Clock::time_point> full_load_start_time;
  std::optional<Clock::time_point> full_load_end_time;
  Clock::time_point last_update_time;
  std::string error_message;  // set in kError
  // CDC changes captured from the source and applied to the target (DescribeTableStatistics'
  // Inserts/Updates/Deletes/Ddls and Applied*).
  std::int64_t inserts = 0, updates = 0, deletes = 0, ddls = 0;
  std::int64_t applied_inserts = 0, applied_updates = 0, applied_deletes = 0, applied_ddls = 0;
};

// Calls `copy(to.counter, from.counter)` for each of a table's change counters (inserts ...
// applied_ddls). `To` and `From` are TableStatus or anything naming its counters alike, such as
// DescribeTableStatistics' entries.
template <class To, class From, class Copy>
void copy_change_counters(To& to, const From& from, Copy copy) {
  copy(to.inserts, from.inserts);
  copy(to.updates, from.updates);
  copy(to.deletes, from.deletes);
  copy(to.ddls, from.ddls);
  copy(to.applied_inserts, from.applied_inserts);
  copy(to.applied_updates, from.applied_updates);
  copy(to.applied_deletes, from.applied_deletes);
  copy(to.applied_ddls, from.applied_ddls);
}

// What ReplicationTaskStats shows while a load runs.
struct FullLoadProgress {
  int percent = 0;  // FullLoadProgressPercent, from row estimates
  std::int64_t rows_loaded = 0;
  std::uint64_t bytes_loaded = 0;
  int tables_loaded = 0, tables_loading = 0, tables_queued = 0, tables_errored = 0;
};

enum class LogSeverity { kInfo, kWarning, kError };

// Receives a load's events. Calls are serialised by the engine (never two at once), but they
// come from worker threads, so an implementation must not assume the caller's thread.
class FullLoadObserver {
 public:
  virtual ~FullLoadObserver() = default;
  // Every selected table, in load order, all "Before load".
  virtual void on_tables_planned(const std::vector<TableStatus>& /*tables*/) {}
  // A table changed state or loaded more rows.
  virtual void on_table_changed(const TableStatus& /*table*/) {}
  virtual void on_progress(const FullLoadProgress& /*progress*/) {}
  // `component` is a DMS log component: TASK_MANAGER, SOURCE_UNLOAD, TARGET_LOAD...
  virtual void on_log(LogSeverity /*severity*/, std::string_view /*component*/,
                      std::string_view /*message*/) {}
};

// DMS's failure when the mappings select nothing and FailOnNoTablesCaptured is on.
inline constexpr const char* kNoTablesFound =
    "No tables were found at task initialization. Either the selected table(s) or schemas(s) no "
    "longer exist or no table(s) match the selection rules.";

enum class FullLoadOutcome {
  kFinished,  // every table was attempted; some may be in "Table error" (see tables_errored)
  kStopped,   // the stop token fired
  kFailed,    // the task failed: see failure_message (DMS's LastFailureMessage) and error_kind
};

struct FullLoadResult {
  FullLoadOutcome outcome = FullLoadOutcome::kFinished;
  std::string failure_message;
  // kFailed: whether retrying could help. A recoverable error ends the whole attempt (the
  // tables it was loading are rolled back and shown cancelled); run_full_load_recovering
  // retries the tables not completed.
  ErrorKind error_kind = ErrorKind::kFatal;
  std::vector<TableStatus> tables;
  FullLoadProgress progress;
  Clock::time_point start_time, end_time;
};

// Runs one full load to the end (or until stopped). Never throws for data-plane problems: a
// failure is reported in the result, in DMS's words. Passwords never appear in any message.
FullLoadResult run_full_load(const FullLoadRequest& request, FullLoadObserver& observer);

}  // namespace dagster_dms::replicate
