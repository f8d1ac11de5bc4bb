#include "replicate/full_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <set>

#include "replicate/cdc_file_writer.hpp"
#include "replicate/copy_stream.hpp"
#include "replicate/copy_text.hpp"
#include "replicate/ddl.hpp"
#include "replicate/parallel_load.hpp"
#include "replicate/s3_path.hpp"
#include "replicate/table_mapping.hpp"
#include "replicate/target_lock.hpp"
#include "replicate/task_settings.hpp"
#include "replicate/thread_pool.hpp"

namespace dagster_dms::replicate {

std::string_view table_state_name(TableState state) {
  switch (state) {
    case TableState::kBeforeLoad:
      return "Before load";
    case TableState::kFullLoad:
      return "Full load";
    case TableState::kCompleted:
      return "Table completed";
    case TableState::kCancelled:
      return "Table cancelled";
    case TableState::kError:
      return "Table error";
  }
  return "Table error";
}

std::vector<std::string> table_folder(const FileTarget& target, const QualifiedName& table) {
  return table_folder_segments(target.bucket, target.folder, table.schema, table.table);
}

namespace {

constexpr std::string_view kApplicationName = "dms-local full load";

// Turns COPY text rows into the file target's CSV rows: `I` first with IncludeOpForFullLoad,
// the TimestampColumnName value last.
class FileSink : public RowSink {
 public:
  FileSink(LoadFileWriter& writer, bool op, std::optional<std::string> timestamp)
      : writer_(writer), op_(op), timestamp_(std::move(timestamp)) {}
  void write_row(std::string_view row) override {
    auto fields = decode_copy_text_row(row);
    if (op_) fields.insert(fields.begin(), std::string("I"));
    if (timestamp_) fields.emplace_back(*timestamp_);
    writer_.write_row(fields);
  }

 private:
  LoadFileWriter& writer_;
  bool op_;
  std::optional<std::string> timestamp_;
};

// The connections one worker keeps across the tables it loads; a connection left in an unknown
// state by a failed table is replaced before the next one.
struct WorkerConnections {
  std::optional<PgConnection> source;
  std::unique_ptr<TableSourceSession> other_source;  // FullLoadRequest::other_source's
  std::optional<PgConnection> target;
};

// Streams one table's rows to a sink: from a PostgreSQL source or another kind.
using TableReader = std::function<CopyOutcome(RowSink&, bool for_files)>;

// A table split by a parallel-load rule: its segments load side by side, each in a target
// transaction of its own, after one of them has prepared the table (created, truncated...).
// Fields other than the preparation's are guarded by the engine's mutex.
struct SegmentedTable {
  std::vector<LoadSegment> segments;
  std::vector<std::int64_t> rows;  // per segment, as loaded so far
  std::size_t completed = 0;       // segments committed
  bool started = false;            // the table shows "Full load" from its first segment on
  bool ended = false;              // in error or cancelled: the remaining segments are skipped
  std::mutex preparation;          // held while the first segment prepares the target table
  bool prepared = false;           // under `preparation`
};

// One unit a worker loads: a whole table, or one segment of a segmented table.
struct WorkItem {
  std::size_t table;
  std::optional<std::size_t> segment;
};

class Engine {
 public:
  Engine(const FullLoadRequest& request, FullLoadObserver& observer)
      : request_(request), observer_(observer) {}

  FullLoadResult run() {
    result_.start_time = Clock::now();
    try {
      prepare();
      if (result_.outcome == FullLoadOutcome::kFinished && !plans_.empty()) load_all();
    } catch (const std::exception& error) {
      fail(error.what(), classify_error(error));
    }
    result_.end_time = Clock::now();
    result_.tables = tables_;
    result_.progress = progress_locked();
    if (result_.outcome == FullLoadOutcome::kFinished) {
      log(LogSeverity::kInfo, "TASK_MANAGER",
          fmt::format("All tables are loaded. Loaded {} of {} tables; {} in error.",
                      result_.progress.tables_loaded, tables_.size(),
                      result_.progress.tables_errored));
    }
    return std::move(result_);
  }

 private:
  void fail(const std::string& message, ErrorKind kind = ErrorKind::kFatal) {
    result_.outcome = FullLoadOutcome::kFailed;
    result_.failure_message = message;
    result_.error_kind = kind;
    log(LogSeverity::kError, "TASK_MANAGER", message);
  }

  void log(LogSeverity severity, std::string_view component, const std::string& message) {
    const std::lock_guard lock(mutex_);
    observer_.on_log(severity, component, message);
  }

  void prepare() {
    try {
      settings_ = parse_full_load_settings(request_.task_settings);
    } catch (const std::invalid_argument& error) {
      return fail(fmt::format("Invalid task settings: {}", error.what()));
    }
    TableMapping mapping;
    try {
      mapping = TableMapping::parse(request_.table_mappings);
    } catch (const MappingError& error) {
      return fail(error.what());
    }
    std::optional<PgConnection> source;
    if (!request_.other_source) source = open_source();
    try {
      plans_ = plan_tables(mapping, request_.other_source
                                        ? request_.other_source->read_catalog(mapping.wants_views())
                                        : read_catalog(*source, mapping.wants_views()));
    } catch (const MappingError& error) {
      return fail(error.what());
    }
    if (!request_.only_tables.empty()) {
      std::erase_if(plans_, [&](const auto& plan) {
        return std::find(request_.only_tables.begin(), request_.only_tables.end(), plan.source) ==
               request_.only_tables.end();
      });
    }
    if (plans_.empty()) {
      if (settings_.fail_on_no_tables) {
        return fail(kNoTablesFound);
      }
      log(LogSeverity::kWarning, "TASK_MANAGER", "No tables match the selection rules.");
      return;
    }
    plan_work(mapping, source);
    if (result_.outcome != FullLoadOutcome::kFinished) return;
    for (auto& plan : plans_) {
      if (!settings_.target_schema.empty() && plan.target.schema == plan.source.schema) {
        plan.target.schema = settings_.target_schema;
      }
      // Never-analysed tables have no estimate; count them so the percentage means something.
      if (plan.estimated_rows < 0) {
        plan.estimated_rows = request_.other_source ? request_.other_source->count_rows(plan.source)
                                                    : count_rows(*source, plan.source);
      }
      TableStatus status;
      status.source = plan.source;
      status.target = plan.target;
      status.estimated_rows = plan.estimated_rows;
      status.last_update_time = Clock::now();
      tables_.push_back(std::move(status));
    }
    if (const auto* target = std::get_if<PostgresTarget>(&request_.target)) {
      PgConnection connection = open_target(*target);
      std::set<std::string> schemas;
      for (const auto& plan : plans_) schemas.insert(plan.target.schema);
      for (const auto& schema : schemas) {
        connection.exec("BEGIN");
        lock_target_schema(connection, schema);
        connection.exec(create_schema_sql(schema));
        connection.exec("COMMIT");
      }
    }
    if (const auto* target = std::get_if<FileTarget>(&request_.target)) {
      // Endpoints stored before BucketName and BucketFolder were checked fail here, before a
      // single file is written.
      try {
        check_s3_location(target->bucket, target->folder);
        files_root_ = ConfinedDirectory::open_root(target->root);
      } catch (const std::exception& error) {
        return fail(fmt::format("Cannot write to the s3 target: {}", error.what()));
      }
    }
    const std::lock_guard lock(mutex_);
    observer_.on_tables_planned(tables_);
  }

  // The work items: every table in load order, a segmented table as one item per segment.
  // `source` is empty for another source kind, whose tables load in one piece.
  void plan_work(const TableMapping& mapping, std::optional<PgConnection>& source) {
    segmented_.resize(plans_.size());
    for (std::size_t index = 0; index < plans_.size(); ++index) {
      const auto& plan = plans_[index];
      const auto* rule = mapping.parallel_load_of(plan.source);
      std::vector<LoadSegment> segments;
      if (rule != nullptr && std::holds_alternative<FileTarget>(request_.target)) {
        log(LogSeverity::kWarning, "TASK_MANAGER",
            fmt::format("parallel-load of table {} applies to database targets only; the table "
                        "is loaded in one piece.",
                        plan.source.display()));
      } else if (rule != nullptr && !source) {
        log(LogSeverity::kWarning, "TASK_MANAGER",
            fmt::format("parallel-load of table {} applies to PostgreSQL sources only; the table "
                        "is loaded in one piece.",
                        plan.source.display()));
      } else if (rule != nullptr) {
        try {
          segments = plan_segments(plan, *rule, *source);
        } catch (const MappingError& error) {
          return fail(error.what());
        }
      }
      if (segments.empty()) {
        work_.push_back({index, std::nullopt});
        continue;
      }
      log(LogSeverity::kInfo, "TASK_MANAGER",
          fmt::format("Table {} is loaded in {} segments (parallel-load {}).",
                      plan.source.display(), segments.size(),
                      mapping::parallel_load_type_name(rule->type)));
      for (std::size_t segment = 0; segment < segments.size(); ++segment) {
        work_.push_back({index, segment});
      }
      auto table = std::make_unique<SegmentedTable>();
      table->rows.assign(segments.size(), 0);
      table->segments = std::move(segments);
      segmented_[index] = std::move(table);
    }
  }

  PgConnection open_source() { return open_task_source(request_.source, kApplicationName); }

  PgConnection open_target(const PostgresTarget& target) {
    return open_task_target(target.endpoint, kApplicationName);
  }

  void load_all() {
    // A failed task stops the other subtasks; so does the caller's stop request.
    std::stop_callback forward(request_.stop, [this] { abort_.request_stop(); });
    // MaxFullLoadSubTasks bounds the tables and segments loaded at once.
    const auto workers =
        std::min<std::size_t>(static_cast<std::size_t>(settings_.max_subtasks), work_.size());
    log(LogSeverity::kInfo, "TASK_MANAGER",
        fmt::format("Full load started: {} tables selected, up to {} loaded in parallel.",
                    plans_.size(), workers));
    run_workers(workers, [this](std::size_t worker) {
      WorkerConnections connections;
      for (;;) {
        if (abort_.stop_requested()) return;
        const std::size_t next = next_item_.fetch_add(1);
        if (next >= work_.size()) return;
        const auto& item = work_[next];
        if (item.segment) {
          load_segment(item.table, *item.segment, worker + 1, connections);
        } else {
          load_table(item.table, worker + 1, connections);
        }
      }
    });
    if (failed_) {
      fail(escalation_message_);
    } else if (request_.stop.stop_requested()) {
      result_.outcome = FullLoadOutcome::kStopped;
      log(LogSeverity::kInfo, "TASK_MANAGER", "Full load stopped on request.");
    } else if (recoverable_kind_ != ErrorKind::kFatal) {
      fail(recoverable_message_, recoverable_kind_);
    }
  }

  void set_state(std::size_t index, TableState state, std::int64_t rows = -1,
                 std::string error = {}) {
    const std::lock_guard lock(mutex_);
    auto& table = tables_[index];
    const auto now = Clock::now();
    table.state = state;
    if (rows >= 0) table.full_load_rows = rows;
    if (state == TableState::kFullLoad) table.full_load_start_time = now;
    if (state == TableState::kCompleted || state == TableState::kError ||
        state == TableState::kCancelled) {
      table.full_load_end_time = now;
    }
    if (!error.empty()) table.error_message = std::move(error);
    table.last_update_time = now;
    observer_.on_table_changed(table);
    observer_.on_progress(progress_locked());
  }

  FullLoadProgress progress_locked() const {
    FullLoadProgress progress;
    double done = 0, total = 0;
    for (const auto& table : tables_) {
      const auto rows = static_cast<double>(table.full_load_rows);
      switch (table.state) {
        case TableState::kBeforeLoad:
          ++progress.tables_queued;
          break;
        case TableState::kFullLoad:
          ++progress.tables_loading;
          break;
        case TableState::kCompleted:
          ++progress.tables_loaded;
          break;
        case TableState::kError:
        case TableState::kCancelled:
          ++progress.tables_errored;
          break;
      }
      progress.rows_loaded += table.full_load_rows;
      // A finished table counts as exactly what it loaded; others by their estimate.
      const bool finished =
          table.state == TableState::kCompleted || table.state == TableState::kError;
      done += finished ? std::max(rows, table.estimated_rows) : rows;
      total += std::max(rows, table.estimated_rows);
    }
    progress.bytes_loaded = bytes_loaded_;
    const bool all_finished = progress.tables_queued == 0 && progress.tables_loading == 0;
    if (all_finished && !tables_.empty()) {
      progress.percent = 100;
    } else if (total > 0) {
      progress.percent = std::min(99, static_cast<int>(std::floor(done * 100.0 / total)));
    }
    return progress;
  }

  void load_table(std::size_t index, std::size_t subtask, WorkerConnections& connections) {
    const auto& plan = plans_[index];
    set_state(index, TableState::kFullLoad, 0);
    log(LogSeverity::kInfo, "TASK_MANAGER",
        fmt::format("Start loading table {} (Id = {}) by subtask {}.", plan.source.display(),
                    index + 1, subtask));
    const auto on_rows = [this, index](std::int64_t rows) {
      const std::lock_guard lock(mutex_);
      auto& table = tables_[index];
      table.full_load_rows = rows;
      table.last_update_time = Clock::now();
      observer_.on_table_changed(table);
      observer_.on_progress(progress_locked());
    };
    try {
      const auto read = open_table_reader(plan, connections, on_rows);
      CopyOutcome outcome;
      if (const auto* target = std::get_if<PostgresTarget>(&request_.target)) {
        open_target_write(*target, connections);
        outcome = load_into_postgres(plan, read, *connections.target);
      } else {
        outcome = load_into_files(plan, std::get<FileTarget>(request_.target), read);
      }
      if (outcome.cancelled) {
        set_state(index, TableState::kCancelled, outcome.rows);
        return;
      }
      if (!request_.source_snapshot.empty()) connections.source->exec("COMMIT");
      {
        const std::lock_guard lock(mutex_);
        bytes_loaded_ += outcome.bytes;
      }
      set_state(index, TableState::kCompleted, outcome.rows);
      log(LogSeverity::kInfo, "TARGET_LOAD",
          fmt::format("Load finished for table {} (Id = {}). {} rows received. 0 rows skipped. "
                      "Volume transferred {}.",
                      plan.target.display(), index + 1, outcome.rows, outcome.bytes));
    } catch (const std::exception& error) {
      const std::string message =
          fmt::format("Failed to load table {} into {}: {}", plan.source.display(),
                      plan.target.display(), error.what());
      if (const auto kind = classify_error(error); kind != ErrorKind::kFatal) {
        return interrupt(index, kind, message, connections);
      }
      fail_table(index, message, connections);
    }
  }

  void fail_table(std::size_t index, const std::string& message, WorkerConnections& connections) {
    set_state(index, TableState::kError, -1, message);
    log(LogSeverity::kError, "TARGET_LOAD", message);
    if (connections.target && PQtransactionStatus(connections.target->get()) != PQTRANS_IDLE) {
      PgResult ignored{PQexec(connections.target->get(), "ROLLBACK")};
    }
    escalate();
  }

  // How the worker reads one whole table: from the other source kind's session, or from its
  // PostgreSQL source connection (see open_source_read).
  TableReader open_table_reader(const TablePlan& plan, WorkerConnections& connections,
                                const std::function<void(std::int64_t)>& on_rows) {
    if (request_.other_source) {
      if (!connections.other_source || !connections.other_source->healthy()) {
        connections.other_source = request_.other_source->open_session();
      }
      return [this, &plan, &connections, on_rows](RowSink& sink, bool for_files) {
        return connections.other_source->copy_table(plan, for_files, sink, abort_.get_token(),
                                                    on_rows);
      };
    }
    open_source_read(connections);
    return [this, &plan, &connections, on_rows](RowSink& sink, bool for_files) {
      return stream_copy_out(*connections.source, copy_out_sql(plan, for_files), sink,
                             abort_.get_token(), on_rows);
    };
  }

  // The worker's source connection, (re)opened if needed, inside the slot's snapshot when the
  // load has one: the rows as of its consistent point, no more and no less.
  void open_source_read(WorkerConnections& connections) {
    if (!connections.source || !connections.source->healthy()) connections.source = open_source();
    if (!request_.source_snapshot.empty()) {
      connections.source->exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      connections.source->exec(
          fmt::format("SET TRANSACTION SNAPSHOT {}", quote_literal(request_.source_snapshot)));
    }
  }

  void open_target_write(const PostgresTarget& target, WorkerConnections& connections) {
    if (!connections.target || !connections.target->healthy()) {
      connections.target = open_target(target);
    }
  }

  // One segment of a segmented table (database targets only). The first segment a worker
  // starts prepares the table in a transaction of its own; every segment then commits its rows
  // on its own, so a failed or stopped load leaves the table partly loaded (and not
  // "Table completed"), as DMS's commits every CommitRate rows do.
  void load_segment(std::size_t index, std::size_t segment, std::size_t subtask,
                    WorkerConnections& connections) {
    const auto& plan = plans_[index];
    auto& table = *segmented_[index];
    bool first = false;
    {
      const std::lock_guard lock(mutex_);
      if (table.ended) return;  // a sibling segment failed or was cancelled
      first = !table.started;
      table.started = true;
    }
    if (first) set_state(index, TableState::kFullLoad, 0);
    const auto& part = table.segments[segment];
    log(LogSeverity::kInfo, "TASK_MANAGER",
        fmt::format("Start loading segment {} ({} of {}) of table {} (Id = {}) by subtask {}.",
                    part.name, segment + 1, table.segments.size(), plan.source.display(), index + 1,
                    subtask));
    const auto on_rows = [this, index, segment, &table](std::int64_t rows) {
      const std::lock_guard lock(mutex_);
      table.rows[segment] = rows;
      update_rows_locked(index, table);
    };
    try {
      open_source_read(connections);
      open_target_write(std::get<PostgresTarget>(request_.target), connections);
      auto& target = *connections.target;
      {
        const std::lock_guard prepared(table.preparation);
        if (!table.prepared) {
          target.exec("BEGIN");
          prepare_target_table(plan, target);
          target.exec("COMMIT");
          table.prepared = true;
        }
      }
      target.exec("BEGIN");
      PgCopyInSink sink(target, copy_in_sql(plan));
      const auto outcome =
          stream_copy_out(*connections.source, segment_copy_out_sql(plan, part, false), sink,
                          abort_.get_token(), on_rows);
      if (outcome.cancelled) {
        sink.abort("full load stopped");
        target.exec("ROLLBACK");
        if (end_segmented(index)) set_state(index, TableState::kCancelled);
        return;
      }
      sink.finish();
      target.exec("COMMIT");
      if (!request_.source_snapshot.empty()) connections.source->exec("COMMIT");
      std::int64_t total = 0;
      bool all_done = false;
      {
        const std::lock_guard lock(mutex_);
        bytes_loaded_ += outcome.bytes;
        table.rows[segment] = outcome.rows;
        for (const auto rows : table.rows) total += rows;
        all_done = ++table.completed == table.segments.size() && !table.ended;
      }
      if (!all_done) return;
      set_state(index, TableState::kCompleted, total);
      log(LogSeverity::kInfo, "TARGET_LOAD",
          fmt::format("Load finished for table {} (Id = {}). {} rows received in {} segments. 0 "
                      "rows skipped.",
                      plan.target.display(), index + 1, total, table.segments.size()));
    } catch (const std::exception& error) {
      const std::string message =
          fmt::format("Failed to load segment {} of table {} into {}: {}", part.name,
                      plan.source.display(), plan.target.display(), error.what());
      if (const auto kind = classify_error(error); kind != ErrorKind::kFatal) {
        end_segmented(index);
        return interrupt(index, kind, message, connections);
      }
      if (end_segmented(index)) {
        fail_table(index, message, connections);
      } else if (connections.target &&
                 PQtransactionStatus(connections.target->get()) != PQTRANS_IDLE) {
        PgResult ignored{PQexec(connections.target->get(), "ROLLBACK")};
      }
    }
  }

  // Marks a segmented table over before all its segments committed; true for the first
  // segment to do so (which reports the table's new state), false for the others.
  bool end_segmented(std::size_t index) {
    const std::lock_guard lock(mutex_);
    auto& table = *segmented_[index];
    const bool first = !table.ended;
    table.ended = true;
    return first;
  }

  void update_rows_locked(std::size_t index, const SegmentedTable& table) {
    auto& status = tables_[index];
    status.full_load_rows = 0;
    for (const auto rows : table.rows) status.full_load_rows += rows;
    status.last_update_time = Clock::now();
    observer_.on_table_changed(status);
    observer_.on_progress(progress_locked());
  }

  // A lost connection is not the table's fault: the table's transaction is gone with it (or
  // rolled back here), so it shows cancelled, and the attempt ends for every table so the
  // task can be retried (ErrorBehavior.Recoverable*).
  void interrupt(std::size_t index, ErrorKind kind, const std::string& message,
                 WorkerConnections& connections) {
    set_state(index, TableState::kCancelled, 0);
    log(LogSeverity::kWarning, "TARGET_LOAD", message);
    connections.source.reset();
    connections.other_source.reset();
    connections.target.reset();
    {
      const std::lock_guard lock(mutex_);
      if (recoverable_kind_ == ErrorKind::kFatal) {
        // The task reached both databases when it started: one not answering now is restarting.
        recoverable_kind_ = kind == ErrorKind::kCannotConnect ? ErrorKind::kConnectionLost : kind;
        recoverable_message_ = message;
      }
    }
    abort_.request_stop();
  }

  // DMS's ErrorBehavior: a table error suspends the table, unless the policy or the escalation
  // count says to stop the task.
  void escalate() {
    const std::lock_guard lock(mutex_);
    const int errored =
        static_cast<int>(std::count_if(tables_.begin(), tables_.end(), [](const TableStatus& t) {
          return t.state == TableState::kError;
        }));
    const bool escalated = settings_.table_error_escalation_count > 0 &&
                           errored >= settings_.table_error_escalation_count;
    if (!settings_.stop_task_on_table_error && !escalated) return;
    if (!failed_) {
      failed_ = true;
      const auto& first = *std::find_if(tables_.begin(), tables_.end(), [](const TableStatus& t) {
        return t.state == TableState::kError;
      });
      escalation_message_ =
          escalated ? fmt::format(
                          "Task stopped: {} tables failed to load (TableErrorEscalationCount "
                          "is {}). First error: {}",
                          errored, settings_.table_error_escalation_count, first.error_message)
                    : fmt::format("Task stopped on a table error (TableErrorPolicy STOP_TASK): {}",
                                  first.error_message);
    }
    abort_.request_stop();
  }

  CopyOutcome load_into_postgres(const TablePlan& plan, const TableReader& read,
                                 PgConnection& target) {
    // One transaction per table: the target never shows a half-prepared or half-loaded table.
    target.exec("BEGIN");
    prepare_target_table(plan, target);
    PgCopyInSink sink(target, copy_in_sql(plan));
    const auto outcome = read(sink, false);
    if (outcome.cancelled) {
      sink.abort("full load stopped");
      target.exec("ROLLBACK");
      return outcome;
    }
    sink.finish();
    target.exec("COMMIT");
    return outcome;
  }

  // TargetTablePrepMode applied to `plan`'s target table, inside the caller's transaction
  // (which holds the table's lock until it ends).
  void prepare_target_table(const TablePlan& plan, PgConnection& target) {
    lock_target_table(target, plan.target);
    const auto exists =
        target.exec_params("SELECT to_regclass($1) IS NOT NULL", {quote_qualified(plan.target)});
    const bool present = std::string_view(PQgetvalue(exists.get(), 0, 0)) == "t";
    switch (settings_.prep_mode) {
      case TablePrepMode::kDropAndCreate:
        if (present) target.exec(drop_table_sql(plan.target));
        target.exec(create_table_sql(plan));
        break;
      case TablePrepMode::kTruncateBeforeLoad:
        target.exec(present ? truncate_table_sql(plan.target) : create_table_sql(plan));
        break;
      case TablePrepMode::kDoNothing:
        // Our reading of DMS: existing tables are left alone, missing ones are created.
        if (!present) target.exec(create_table_sql(plan));
        break;
    }
  }

  CopyOutcome load_into_files(const TablePlan& plan, const FileTarget& target,
                              const TableReader& read) {
    const auto folder = table_folder(target, plan.target);
    const auto& root = *files_root_;
    std::uint32_t first_index = 1;
    if (settings_.prep_mode == TablePrepMode::kDoNothing) {
      first_index = next_load_index(root, folder);
    } else {
      remove_load_files(root, folder);
    }
    const std::uint64_t max_kb =
        settings_.load_max_file_kb > 0 ? settings_.load_max_file_kb : target.max_file_size_kb;
    std::vector<std::string> names;
    if (target.include_op_for_full_load) names.emplace_back("Op");
    for (const auto& column : plan.columns) names.push_back(column.target_name);
    std::optional<std::string> timestamp;
    if (!target.timestamp_column_name.empty()) {
      names.push_back(target.timestamp_column_name);
      // The time the table's load started stands for the write time of its rows.
      timestamp = format_commit_timestamp(to_pg_timestamp(Clock::now()));
    }
    LoadFileWriter writer(root, folder, target.csv, max_kb * 1024, names, first_index);
    FileSink sink(writer, target.include_op_for_full_load, std::move(timestamp));
    const auto outcome = read(sink, true);
    if (!outcome.cancelled) writer.finish();
    return outcome;
  }

  const FullLoadRequest& request_;
  FullLoadObserver& observer_;
  FullLoadSettings settings_;
  std::vector<TablePlan> plans_;
  std::vector<TableStatus> tables_;
  std::optional<ConfinedDirectory> files_root_;  // the s3 root, for a file target
  FullLoadResult result_;
  mutable std::mutex mutex_;
  std::vector<WorkItem> work_;
  std::vector<std::unique_ptr<SegmentedTable>> segmented_;  // per table; null: loaded whole
  std::atomic<std::size_t> next_item_{0};
  std::stop_source abort_;
  bool failed_ = false;
  std::string escalation_message_;
  ErrorKind recoverable_kind_ = ErrorKind::kFatal;  // the first recoverable error, if any
  std::string recoverable_message_;
  std::uint64_t bytes_loaded_ = 0;
};

}  // namespace

FullLoadResult run_full_load(const FullLoadRequest& request, FullLoadObserver& observer) {
  return Engine(request, observer).run();
}

}  // namespace dagster_dms::replicate
