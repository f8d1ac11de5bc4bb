#include "replicate/cdc.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <thread>

#include "replicate/cdc_apply.hpp"
#include "replicate/cdc_file_writer.hpp"
#include "replicate/cdc_reload.hpp"
#include "replicate/ddl.hpp"
#include "replicate/replication_stream.hpp"
#include "replicate/schema_change.hpp"
#include "replicate/table_mapping.hpp"
#include "replicate/target_lock.hpp"
#include "replicate/task_settings.hpp"
#include "replicate/txn_state.hpp"

namespace dagster_dms::replicate {

std::string publication_with_key(const std::string& slot) {
  return slot.substr(0, 59) + "_all";
}
std::string publication_without_key(const std::string& slot) {
  return slot.substr(0, 59) + "_ins";
}

std::string recovery_checkpoint(Lsn confirmed) {
  return fmt::format("checkpoint:V1#1#{:08X}/{:08X}#0#0#*#0#0", confirmed >> 32,
                     confirmed & 0xFFFFFFFFu);
}

std::optional<Lsn> parse_recovery_checkpoint(std::string_view checkpoint) {
  constexpr std::string_view kPrefix = "checkpoint:V1#";
  if (!checkpoint.starts_with(kPrefix)) return std::nullopt;
  checkpoint.remove_prefix(kPrefix.size());
  const auto first = checkpoint.find('#');
  if (first == std::string_view::npos) return std::nullopt;
  checkpoint.remove_prefix(first + 1);
  return parse_lsn(checkpoint.substr(0, checkpoint.find('#')));
}

namespace {

constexpr std::string_view kApplicationName = "dms-local cdc";
using Steady = std::chrono::steady_clock;

// A clear failure with DMS's wording where it has one; ends the run.
class CdcFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The target refused a change, or the connection to it broke: the SQLSTATE tells which (see
// classify_error). A refused change fails the task (DMS's ApplyError policies are not modelled).
class ApplyFailure : public PgError {
 public:
  ApplyFailure(const PgError& cause, std::string_view what)
      : PgError(cause.sqlstate(), fmt::format("{}: {}", what, cause.what())) {}
  explicit ApplyFailure(const std::string& message) : PgError("XX000", message) {}
};

// Server notices (`publication ... does not exist, skipping`) would go to dms-local's stderr.
PgConnection quiet(PgConnection connection) {
  PQsetNoticeProcessor(
      connection.get(), [](void*, const char*) {}, nullptr);
  return connection;
}

bool slot_exists(PgConnection& source, const std::string& slot) {
  const auto result =
      source.exec_params("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", {slot});
  return PQntuples(result.get()) > 0;
}

// Waits for the walsender of a run that just ended (or of a dms-local that was killed: the
// server notices the lost client only at its next read) to let go of a slot.
void wait_slot_released(PgConnection& source, const std::string& slot) {
  const auto deadline = Steady::now() + std::chrono::seconds(3);
  for (;;) {
    const auto result = source.exec_params(
        "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", {slot});
    if (PQntuples(result.get()) == 0 || PQgetisnull(result.get(), 0, 0)) return;
    if (Steady::now() >= deadline) {
      source.exec_params("SELECT pg_terminate_backend($1::int)",
                         {std::string(PQgetvalue(result.get(), 0, 0))});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Drops a slot once no walsender holds it.
void drop_slot(PgConnection& source, const std::string& slot) {
  wait_slot_released(source, slot);
  source.exec_params(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
      {slot});
}

double seconds_since(std::int64_t pg_time) {
  const auto age = Clock::now() - from_pg_timestamp(pg_time);
  return std::max(0.0, std::chrono::duration<double>(age).count());
}

class Engine {
 public:
  Engine(const CdcRequest& request, CdcObserver& observer)
      : request_(request), observer_(observer) {}

  CdcResult run() {
    std::unique_ptr<ChangeSink> sink;
    try {
      prepare();
      if (result_.outcome == CdcOutcome::kFailed || plans_.empty()) return finish();
      auto stream = open_stream();
      if (!stream || request_.load.stop.stop_requested()) return finish();
      sink = open_sink();
      replicate(*stream, *sink);
    } catch (const ApplyFailure& error) {
      if (sink) sink->rollback();
      fail(error.what(), "TARGET_APPLY", classify_error(error));
    } catch (const std::exception& error) {
      if (sink) sink->rollback();
      fail(error.what(), "SOURCE_CAPTURE", classify_error(error));
    }
    return finish();
  }

 private:
  CdcResult finish() {
    report_checkpoint();
    result_.tables = tables_;
    observer_.on_cdc_tables(tables_);
    return std::move(result_);
  }

  // Tells the control plane the confirmed position, when it moved. Only at the report interval
  // and when the run ends: rewriting the task's stored document per source transaction would
  // cost more than applying it. A crash may leave RecoveryCheckpoint behind the slot: a resume
  // then takes the target's own record (awsdms_txn_state, the positions in s3 file names),
  // which is written with the data and never behind the slot.
  void report_checkpoint() {
    if (confirmed_ <= reported_checkpoint_) return;
    reported_checkpoint_ = confirmed_;
    observer_.on_checkpoint(confirmed_);
  }

  void fail(const std::string& message, std::string_view component = "SOURCE_CAPTURE",
            ErrorKind kind = ErrorKind::kFatal) {
    result_.outcome = CdcOutcome::kFailed;
    result_.failure_message = message;
    result_.error_kind = kind;
    observer_.on_log(LogSeverity::kError, component, message);
  }

  void log(std::string_view component, const std::string& message,
           LogSeverity severity = LogSeverity::kInfo) {
    observer_.on_log(severity, component, message);
  }

  PgConnection open_source(bool replication = false) {
    return quiet(open_task_source(request_.load.source, kApplicationName, replication));
  }

  // The target type decides where changes go: a PostgreSQL database or s3-style files.
  std::unique_ptr<ChangeSink> open_sink() {
    if (const auto* files = std::get_if<FileTarget>(&request_.load.target)) {
      return std::make_unique<CdcFileWriter>(*files, plans_, request_.resume_from.has_value());
    }
    target_.emplace(open_target());
    open_txn_state();
    if (request_.resume_from) forget_columns_missing_on_target();
    return std::make_unique<ChangeApplier>(*target_, plans_, settings_.change_tuning, &*txn_state_);
  }

  // A resumed run starts from today's source catalog: the columns added while the task was
  // stopped are added once the stream shows them, if the target lacks them.
  void forget_columns_missing_on_target() {
    for (std::size_t i = 0; i < plans_.size(); ++i) {
      const auto result = target_->exec_params(
          "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 "
          "AND NOT attisdropped",
          {quote_qualified(plans_[i].target)});
      if (PQntuples(result.get()) == 0) continue;
      std::vector<std::string> present;
      present.reserve(static_cast<std::size_t>(PQntuples(result.get())));
      for (int row = 0; row < PQntuples(result.get()); ++row) {
        present.emplace_back(PQgetvalue(result.get(), row, 0));
      }
      schema_->forget_missing(i, plans_[i], present);
    }
  }

  PgConnection open_target() {
    const auto* target = std::get_if<PostgresTarget>(&request_.load.target);
    if (target == nullptr) throw CdcFailure("dms-local applies changes to postgres targets only.");
    // The slot is told a position only once the target has it for good: the target's commits
    // are durable.
    return quiet(open_task_target(target->endpoint, kApplicationName));
  }

  void prepare() {
    auto& settings = settings_;
    TableMapping mapping;
    try {
      settings = parse_full_load_settings(request_.load.task_settings);
      // Only a run that loads has cached changes to stop around.
      if (request_.full_load && !request_.resume_from) stop_after_load_ = settings.stop_after_load;
      control_schema_ = settings.control_schema;
      mapping = TableMapping::parse(request_.load.table_mappings);
    } catch (const std::exception& error) {
      return fail(error.what());
    }
    auto source = open_source();
    const auto level = source.exec("SHOW wal_level");
    const std::string wal_level = PQgetvalue(level.get(), 0, 0);
    if (wal_level != "logical") {
      return fail(fmt::format(
          "Source database {} has wal_level={}; change data capture needs logical decoding. Set "
          "wal_level = logical on the source (ALTER SYSTEM SET wal_level = logical, or in "
          "postgresql.conf) and restart PostgreSQL, then start the task again.",
          request_.load.source.describe(), wal_level));
    }
    std::vector<SourceTable> catalog;
    try {
      catalog = read_catalog(source, false);
      plans_ = plan_tables(mapping, catalog);
    } catch (const MappingError& error) {
      return fail(error.what());
    }
    schema_.emplace(mapping, std::move(catalog), settings.target_schema,
                    settings.handle_source_table_altered,
                    [this](const pgoutput::RelationColumn& column) {
                      if (!catalog_source_) catalog_source_.emplace(open_source());
                      return describe_column(*catalog_source_, column.name, column.type_oid,
                                             column.type_modifier);
                    });
    if (plans_.empty()) {
      if (settings.fail_on_no_tables) {
        return fail(kNoTablesFound);
      }
      log("TASK_MANAGER", "No tables match the selection rules.", LogSeverity::kWarning);
      return;
    }
    tables_ = starting_cdc_tables(plans_, request_, settings.target_schema);
    for (const auto& plan : plans_) schema_->follow(plan);
    // A start position on a slot that exists reads the WAL that slot kept: its publications
    // must be the ones that WAL was written under, so they are kept too.
    keep_slot_ =
        !request_.resume_from && request_.start_position && slot_exists(source, request_.slot);
    if (!request_.resume_from && !(keep_slot_ && !existing_publications(source).empty())) {
      create_publications(source);
    }
    publications_ = existing_publications(source);
    if (publications_.empty()) {
      return fail(fmt::format(
          "The publications of replication slot {} are missing on the source; start the task "
          "with reload-target to create them again.",
          request_.slot));
    }
    if (request_.resume_from && !slot_exists(source, request_.slot)) {
      return fail(fmt::format(
          "Replication slot {} does not exist on the source {} (it was dropped outside dms-local); "
          "the changes since the last stop are lost. Start the task with reload-target to load "
          "the tables again and create a new slot.",
          request_.slot, request_.load.source.describe()));
    }
    if (request_.resume_from || keep_slot_) wait_slot_released(source, request_.slot);
    if (keep_slot_) {
      const auto confirmed = source.exec_params(
          "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
          {request_.slot});
      const auto deliverable = parse_lsn(PQgetvalue(confirmed.get(), 0, 0)).value_or(0);
      if (!check_start_position(deliverable)) return;
    }
    if (!request_.resume_from) {
      if (!keep_slot_) drop_slot(source, request_.slot);
      if (!request_.full_load && std::holds_alternative<PostgresTarget>(request_.load.target)) {
        prepare_target_tables();
      }
    }
  }

  // CdcStartPosition must be one the slot can still deliver: PostgreSQL keeps no WAL for a
  // slot before its confirmed position.
  bool check_start_position(Lsn deliverable) {
    if (*request_.start_position >= deliverable) return true;
    fail(fmt::format(
        "CdcStartPosition {} is before what replication slot {} can deliver: its confirmed "
        "position is {}. Changes older than a slot's confirmed position cannot be read again; "
        "give a CdcStartPosition at or after {}.",
        format_lsn(*request_.start_position), request_.slot, format_lsn(deliverable),
        format_lsn(deliverable)));
    return false;
  }

  // The target's awsdms_txn_state: on a resume the target may be ahead of the stored
  // RecoveryCheckpoint (dms-local was killed between the two writes); it wins then.
  void open_txn_state() {
    txn_state_.emplace(*target_, control_schema_, request_.task_name, request_.slot);
    if (!request_.resume_from) {
      txn_state_->record(start_, std::nullopt);
      return;
    }
    const auto recorded = txn_state_->position();
    if (recorded && *recorded > start_) {
      log("TARGET_APPLY",
          fmt::format("The target has applied changes up to {}, past the stored recovery "
                      "checkpoint {}: continuing from {}.",
                      format_lsn(*recorded), format_lsn(start_), format_lsn(*recorded)));
      start_ = *recorded;
    }
  }

  void create_publications(PgConnection& source) {
    std::string with_key, without_key;
    for (const auto& plan : plans_) {
      auto& list = plan.primary_key.empty() ? without_key : with_key;
      if (!list.empty()) list += ", ";
      list += quote_qualified(plan.source);
      if (plan.primary_key.empty()) {
        log("SOURCE_CAPTURE",
            fmt::format("Table {} has no primary key: only its inserts and truncates are "
                        "captured (updates and deletes are not replicated, as in AWS DMS).",
                        plan.source.display()),
            LogSeverity::kWarning);
      }
    }
    const auto all = publication_with_key(request_.slot);
    const auto ins = publication_without_key(request_.slot);
    source.exec("DROP PUBLICATION IF EXISTS " + quote_ident(all));
    source.exec("DROP PUBLICATION IF EXISTS " + quote_ident(ins));
    if (!with_key.empty()) {
      source.exec(fmt::format("CREATE PUBLICATION {} FOR TABLE {}", quote_ident(all), with_key));
    }
    if (!without_key.empty()) {
      source.exec(
          fmt::format("CREATE PUBLICATION {} FOR TABLE {} WITH (publish = 'insert, "
                      "truncate')",
                      quote_ident(ins), without_key));
    }
  }

  std::vector<std::string> existing_publications(PgConnection& source) {
    std::vector<std::string> out;
    for (const auto& name :
         {publication_with_key(request_.slot), publication_without_key(request_.slot)}) {
      const auto result =
          source.exec_params("SELECT 1 FROM pg_publication WHERE pubname = $1", {name});
      if (PQntuples(result.get()) > 0) out.push_back(name);
    }
    return out;
  }

  // A cdc-only task replicates into tables that exist; missing ones are created like a load's.
  void prepare_target_tables() {
    auto target = open_target();
    create_missing_cdc_tables(target, plans_);
  }

  // Creates the slot (fresh runs) and runs the full load in its snapshot; returns the stream,
  // ready to START_REPLICATION at start_.
  std::optional<ReplicationStream> open_stream() {
    ReplicationStream stream(open_source(true));
    if (request_.resume_from) {
      start_ = *request_.resume_from;
      log("SOURCE_CAPTURE", fmt::format("Resuming replication slot '{}' from position {}.",
                                        request_.slot, format_lsn(start_)));
      observer_.on_capturing();
      return stream;
    }
    if (keep_slot_) {
      start_ = *request_.start_position;
      log("SOURCE_CAPTURE", fmt::format("Starting replication slot '{}' at CdcStartPosition {}.",
                                        request_.slot, format_lsn(start_)));
      observer_.on_checkpoint(start_);
      observer_.on_capturing();
      return stream;
    }
    const auto slot = stream.create_slot(request_.slot, request_.full_load);
    start_ = slot.consistent_point;
    log("SOURCE_CAPTURE",
        fmt::format("Replication slot '{}' created with plugin pgoutput; consistent point {}.",
                    request_.slot, format_lsn(start_)));
    if (request_.start_position) {
      if (!check_start_position(start_)) return std::nullopt;
      start_ = *request_.start_position;
    }
    observer_.on_capturing();
    if (request_.full_load) {
      FullLoadRequest load = request_.load;
      load.source_snapshot = slot.snapshot_name;
      const auto loaded = run_full_load(load, observer_);
      observer_.on_full_load_done(loaded);
      for (auto& table : tables_) {
        for (const auto& done : loaded.tables) {
          if (done.source == table.source) table = done;
        }
      }
      if (loaded.outcome == FullLoadOutcome::kFailed) {
        result_.outcome = CdcOutcome::kFailed;
        result_.failure_message = loaded.failure_message;
        result_.error_kind = loaded.error_kind;
        return std::nullopt;
      }
      if (loaded.outcome == FullLoadOutcome::kStopped) {
        result_.outcome = CdcOutcome::kFullLoadStopped;
        return std::nullopt;
      }
    }
    // The load is in: from here on a resume continues from the slot, not from a new load.
    observer_.on_checkpoint(start_);
    if (stop_after_load_ == StopAfterLoad::kCachedChangesNotApplied) {
      log("TASK_MANAGER", "Task stopped after the full load (StopTaskCachedChangesNotApplied).");
      result_.outcome = CdcOutcome::kFinished;
      result_.stop_reason = "Stop Reason STOPPED_AFTER_FULL_LOAD";
      return std::nullopt;
    }
    if (stop_after_load_ == StopAfterLoad::kCachedChangesApplied) {
      // The cached changes are the transactions committed before this point.
      auto source = open_source();
      const auto now = source.exec("SELECT pg_current_wal_lsn()::text");
      cached_until_ = parse_lsn(PQgetvalue(now.get(), 0, 0)).value_or(start_);
    }
    return stream;
  }

  void replicate(ReplicationStream& stream, ChangeSink& sink) {
    const auto& stop = request_.load.stop;
    try {
      stream.start(request_.slot, start_, publications_);
    } catch (const PgError& error) {
      if (error.sqlstate() == "42704") {
        throw CdcFailure(fmt::format(
            "Replication slot {} does not exist on the source (it was dropped outside "
            "dms-local). Start the task with reload-target to load the tables again and create "
            "a new slot. {}",
            request_.slot, error.what()));
      }
      throw;
    }
    log("SOURCE_CAPTURE",
        fmt::format("Starting replication from slot '{}' at position {}: stream position {}.NOW",
                    request_.slot, format_lsn(start_), format_lsn(start_)));
    Lsn& confirmed = confirmed_;
    confirmed = start_;
    Lsn received = start_;
    Lsn committed = start_;  // the last transaction handed to the sink (maybe not yet durable)
    Lsn quiet_until = 0;  // the slot may be confirmed up to here: nothing for this task before it
    // What the slot is told it may release: never a change not yet durable on the target.
    const auto flushed = [&] { return std::max(confirmed, quiet_until); };
    bool in_transaction = false;
    bool skip = false;
    std::int64_t commit_time = 0;
    std::vector<TableStatus> unflushed;  // applied counts of committed, not yet durable changes
    std::int64_t read_rows = 0, applied_rows = 0, incoming = 0, unflushed_rows = 0;
    // The same in bytes of decoded change data, for the bandwidth and memory metrics.
    std::int64_t read_bytes = 0, applied_bytes = 0, incoming_bytes = 0, unflushed_bytes = 0;
    std::int64_t reported_read_bytes = 0, reported_applied_bytes = 0;
    std::int64_t unflushed_commit_time = 0;
    CdcMetrics metrics;
    auto last_report = Steady::now();
    auto last_status = Steady::now();
    std::int64_t reported_read = 0, reported_applied = 0;
    std::int64_t published_rows = -1, published_applied = -1;
    unflushed.assign(tables_.size(), TableStatus{});
    pending_.assign(tables_.size(), TableStatus{});

    // The sink's durable position moved: the changes up to it count as applied, and the slot
    // (and at the next report the task) may now be told (never earlier: a crash would lose
    // them).
    const auto advance = [&] {
      const Lsn durable = sink.durable();
      if (durable <= confirmed) return;
      for (std::size_t i = 0; i < tables_.size(); ++i) {
        tables_[i].applied_inserts += unflushed[i].applied_inserts;
        tables_[i].applied_updates += unflushed[i].applied_updates;
        tables_[i].applied_deletes += unflushed[i].applied_deletes;
        tables_[i].applied_ddls += unflushed[i].applied_ddls;
      }
      unflushed.assign(tables_.size(), TableStatus{});
      applied_rows += unflushed_rows;
      unflushed_rows = 0;
      applied_bytes += unflushed_bytes;
      unflushed_bytes = 0;
      confirmed = durable;
      stream.send_status(received, flushed());
      last_status = Steady::now();
      metrics.latency_target_seconds = seconds_since(unflushed_commit_time);
    };
    const auto flush = [&](bool force) {
      try {
        sink.flush(force);
      } catch (const PgError& error) {
        // A postgres target reads the answers to a transaction's statements at its COMMIT.
        throw ApplyFailure(error, "Failed to apply a change to the target");
      } catch (const std::exception& error) {
        throw ApplyFailure(fmt::format("Failed to write changes to the target: {}", error.what()));
      }
      advance();
    };
    // ReloadTables: prepared between transactions, copied once the stream reaches its point.
    TableReloader reloader(request_, observer_);
    const auto reload_now = [&] {
      flush(true);
      observer_.on_tables_reloaded(reloader.run(tables_, [&] {
        stream.send_status(received, confirmed);
        last_status = Steady::now();
      }));
    };

    const auto& stop_at = request_.stop_position;
    while (!stop.stop_requested()) {
      if (!in_transaction) reloader.poll([&] { flush(true); });
      if (stop_at && stop_at->kind == CdcStopPosition::Kind::kServerTime &&
          Clock::now() >= stop_at->at) {
        stopped_at_position(confirmed);
        break;
      }
      // A sink holding transactions back for a backlog writes them as soon as the stream has
      // nothing more: no waiting for it then.
      const auto frame = stream.read(std::chrono::milliseconds(sink.holding() ? 0 : 200), stop);
      if (frame) {
        const auto parsed = parse_stream_frame(*frame);
        if (const auto* keepalive = std::get_if<Keepalive>(&parsed)) {
          received = std::max(received, keepalive->wal_end);
          if (!in_transaction && confirmed == committed) {
            metrics.latency_source_seconds = 0;
            metrics.latency_target_seconds = 0;
            // Every transaction read is durable on the target and none is half-read: the WAL
            // up to the server's decoding point holds nothing more for this task, so the slot
            // may be told so (a later commit has a later LSN and is still sent). Without it a
            // source shut down in fast mode waits forever: its walsender exits only once the
            // client confirms the shutdown checkpoint, which holds no change. The task's
            // checkpoint stays at the last change applied, as the target records it.
            if (!sink.holding()) quiet_until = std::max(quiet_until, keepalive->wal_end);
          }
          if (!in_transaction && reloader.due(keepalive->wal_end)) reload_now();
          if (keepalive->reply_requested) {
            stream.send_status(received, flushed());
            last_status = Steady::now();
          }
          // The server has decoded past the end of the cached changes and none is half-read.
          if (cached_until_ != 0 && !in_transaction && keepalive->wal_end >= cached_until_) {
            flush(true);
            return finish_cached_changes(confirmed);
          }
        } else {
          const auto& data = std::get<XLogData>(parsed);
          received = std::max(received, data.wal_end);
          const auto message = pgoutput::parse_message(data.payload);
          if (const auto* begin = std::get_if<pgoutput::Begin>(&message)) {
            if (stop_at && stop_at->kind == CdcStopPosition::Kind::kCommitTime &&
                from_pg_timestamp(begin->commit_time) > stop_at->at) {
              stopped_at_position(confirmed);
              break;
            }
            if (reloader.due(begin->final_lsn)) reload_now();
            in_transaction = true;
            commit_time = begin->commit_time;
            metrics.latency_source_seconds = seconds_since(commit_time);
            // Already applied before a stop: the slot may send it again, the target must not
            // see it twice.
            skip = begin->final_lsn < confirmed;
            pending_.assign(tables_.size(), TableStatus{});
            if (!skip) sink.begin(*begin);
          } else if (const auto* commit = std::get_if<pgoutput::Commit>(&message)) {
            in_transaction = false;
            if (!skip) {
              if (request_.before_commit) request_.before_commit(stop);
              try {
                sink.commit(commit->end_lsn);
              } catch (const PgError& error) {
                throw ApplyFailure(error, "Failed to apply a change to the target");
              }
              for (std::size_t i = 0; i < tables_.size(); ++i) {
                unflushed[i].applied_inserts += pending_[i].applied_inserts;
                unflushed[i].applied_updates += pending_[i].applied_updates;
                unflushed[i].applied_deletes += pending_[i].applied_deletes;
                unflushed[i].applied_ddls += pending_[i].applied_ddls;
              }
              unflushed_rows += incoming;
              unflushed_bytes += incoming_bytes;
              unflushed_commit_time = commit->commit_time;
              committed = commit->end_lsn;
              sink.set_backlog(stream.ready());
              flush(false);
            }
            incoming = 0;
            incoming_bytes = 0;
            skip = false;
            if (cached_until_ != 0 && committed >= cached_until_) {
              flush(true);
              return finish_cached_changes(confirmed);
            }
          } else if (const auto* relation = std::get_if<pgoutput::Relation>(&message)) {
            on_relation(sink, *relation, skip);
          } else if (skip) {
            // A change of a transaction the target already has.
          } else {
            ++incoming;
            ++read_rows;
            const auto bytes = static_cast<std::int64_t>(data.payload.size());
            incoming_bytes += bytes;
            read_bytes += bytes;
            apply_change(sink, message);
          }
        }
      } else {
        // A quiet stream: a batch may be due by its age alone.
        sink.set_backlog(false);
        flush(false);
      }
      const auto now = Steady::now();
      if (!frame && (cached_until_ != 0 || reloader.waiting())) {
        // Asks for a keepalive: it says how far the server has decoded.
        stream.send_status(received, flushed(), true);
        last_status = now;
      }
      // The server drops a client silent for wal_sender_timeout (60 s by default).
      if (now - last_status >= std::chrono::seconds(5)) {
        stream.send_status(received, flushed());
        last_status = now;
      }
      if (now - last_report >= request_.report_interval) {
        const double seconds = std::chrono::duration<double>(now - last_report).count();
        metrics.incoming_changes = static_cast<double>(incoming + unflushed_rows);
        metrics.throughput_rows_source = static_cast<double>(read_rows - reported_read) / seconds;
        metrics.throughput_rows_target =
            static_cast<double>(applied_rows - reported_applied) / seconds;
        constexpr double kKilobyte = 1024.0, kMegabyte = 1024.0 * 1024.0;
        metrics.throughput_bandwidth_source_kb =
            static_cast<double>(read_bytes - reported_read_bytes) / kKilobyte / seconds;
        metrics.throughput_bandwidth_target_kb =
            static_cast<double>(applied_bytes - reported_applied_bytes) / kKilobyte / seconds;
        metrics.changes_memory_source_mb = static_cast<double>(incoming_bytes) / kMegabyte;
        metrics.changes_memory_target_mb = static_cast<double>(unflushed_bytes) / kMegabyte;
        reported_read = read_rows;
        reported_applied = applied_rows;
        reported_read_bytes = read_bytes;
        reported_applied_bytes = applied_bytes;
        last_report = now;
        observer_.on_cdc_metrics(metrics);
        report_checkpoint();
        // Each report is a write to the control plane's state: only when something changed.
        if (read_rows != published_rows || applied_rows != published_applied) {
          observer_.on_cdc_tables(tables_);
          published_rows = read_rows;
          published_applied = applied_rows;
        }
      }
    }
    // A transaction cut short by the stop is not confirmed: the slot sends it again. The
    // committed ones a batching target still holds are written now.
    sink.rollback();
    flush(true);
    log("SOURCE_CAPTURE",
        fmt::format("Replication stopped; last confirmed position {}.", format_lsn(confirmed)));
  }

  void stopped_at_position(Lsn confirmed) {
    result_.outcome = CdcOutcome::kFinished;
    result_.stop_reason = request_.stop_position->stop_reason();
    log("TASK_MANAGER", fmt::format("CdcStopPosition reached: task stops after the changes up to "
                                    "{} ({}).",
                                    format_lsn(confirmed), result_.stop_reason));
  }

  void finish_cached_changes(Lsn confirmed) {
    log("TASK_MANAGER", fmt::format("Task stopped after applying the cached changes up to {} "
                                    "(StopTaskCachedChangesApplied).",
                                    format_lsn(confirmed)));
    result_.outcome = CdcOutcome::kFinished;
    result_.stop_reason = "Stop Reason STOPPED_AFTER_CACHED_EVENTS";
  }

  // One captured change of a selected table: counted as read now, as applied once durable.
  void count(std::size_t index, ChangeKind kind, bool applied = true) {
    auto& table = tables_[index];
    auto& done = pending_[index];
    switch (kind) {
      case ChangeKind::kInsert:
        ++table.inserts, done.applied_inserts += applied;
        break;
      case ChangeKind::kUpdate:
        ++table.updates, done.applied_updates += applied;
        break;
      case ChangeKind::kDelete:
        ++table.deletes, done.applied_deletes += applied;
        break;
      case ChangeKind::kDdl:
        ++table.ddls, done.applied_ddls += applied;
        break;
    }
    table.last_update_time = Clock::now();
  }

  void apply_change(ChangeSink& sink, const pgoutput::Message& message) {
    try {
      if (const auto* insert = std::get_if<pgoutput::Insert>(&message)) {
        if (const auto index = sink.apply(*insert)) count(*index, ChangeKind::kInsert);
      } else if (const auto* update = std::get_if<pgoutput::Update>(&message)) {
        if (const auto index = sink.apply(*update)) count(*index, ChangeKind::kUpdate);
      } else if (const auto* remove = std::get_if<pgoutput::Delete>(&message)) {
        if (const auto index = sink.apply(*remove)) count(*index, ChangeKind::kDelete);
      } else if (const auto* truncate = std::get_if<pgoutput::Truncate>(&message)) {
        apply_truncate(sink, *truncate);
      }
    } catch (const PgError& error) {
      throw ApplyFailure(error, "Failed to apply a change to the target");
    }
  }

  void apply_truncate(ChangeSink& sink, const pgoutput::Truncate& truncate) {
    if (settings_.handle_source_table_truncated) {
      for (const auto index : sink.apply(truncate)) count(index, ChangeKind::kDdl);
      return;
    }
    for (const auto relation : truncate.relations) {
      const auto found = relation_plans_.find(relation);
      if (found == relation_plans_.end()) continue;
      count(found->second, ChangeKind::kDdl, false);
      log("TARGET_APPLY",
          fmt::format("TRUNCATE of table {} not applied to the target "
                      "(ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated is false).",
                      plans_[found->second].source.display()),
          LogSeverity::kWarning);
    }
  }

  // A table's (new) description; a column change it shows reaches the target here, in the
  // transaction of the first change after it (see SchemaFollower).
  void on_relation(ChangeSink& sink, const pgoutput::Relation& relation, bool replayed) {
    const QualifiedName name{relation.schema, relation.name};
    const auto plan = std::find_if(plans_.begin(), plans_.end(),
                                   [&](const TablePlan& p) { return p.source == name; });
    if (plan != plans_.end()) {
      const auto index = static_cast<std::size_t>(plan - plans_.begin());
      relation_plans_[relation.id] = index;
      if (const auto decision = schema_->on_relation(index, *plan, relation)) {
        for (const auto& warning : decision->warnings) {
          log("TARGET_APPLY", warning, LogSeverity::kWarning);
        }
        // A replayed transaction's DDL is on the target already, and counted.
        if (!replayed) {
          try {
            sink.alter(index, decision->alteration);
          } catch (const PgError& error) {
            // Also where the answers to the statements sent before it are read.
            throw ApplyFailure(error, "Failed to apply a change to the target");
          }
          for (std::size_t i = 0; i < decision->ddls; ++i) {
            count(index, ChangeKind::kDdl, i < decision->applied);
          }
          if (!decision->applied_summary.empty()) {
            log("TARGET_APPLY", fmt::format("Source table {} altered; applied to target {}: {}.",
                                            plan->source.display(), plan->target.display(),
                                            decision->applied_summary));
          }
        }
      }
    }
    sink.on_relation(relation);
  }

  const CdcRequest& request_;
  CdcObserver& observer_;
  FullLoadSettings settings_;
  std::vector<TablePlan> plans_;
  std::optional<SchemaFollower> schema_;
  std::map<std::uint32_t, std::size_t> relation_plans_;
  std::optional<PgConnection> catalog_source_;  // describes columns added during the run
  std::vector<TableStatus> tables_;
  std::vector<std::string> publications_;
  StopAfterLoad stop_after_load_ = StopAfterLoad::kNo;
  Lsn cached_until_ = 0;  // kCachedChangesApplied: stop once everything before it is applied
  std::optional<PgConnection> target_;
  std::optional<TxnStateTable> txn_state_;
  std::string control_schema_;
  bool keep_slot_ = false;  // a start position on an existing slot: the slot is not recreated
  Lsn start_ = 0;
  Lsn confirmed_ = 0;                 // every source transaction up to it is durable on the target
  Lsn reported_checkpoint_ = 0;       // the last position the task was told
  std::vector<TableStatus> pending_;  // the open transaction's applied counts, per table
  CdcResult result_;
};

}  // namespace

void create_missing_cdc_tables(PgConnection& target, const std::vector<TablePlan>& plans) {
  for (const auto& plan : plans) {
    target.exec("BEGIN");
    lock_target_schema(target, plan.target.schema);
    target.exec(create_schema_sql(plan.target.schema));
    lock_target_table(target, plan.target);
    const auto exists =
        target.exec_params("SELECT to_regclass($1) IS NOT NULL", {quote_qualified(plan.target)});
    if (std::string_view(PQgetvalue(exists.get(), 0, 0)) != "t") {
      target.exec(create_table_sql(plan));
    }
    target.exec("COMMIT");
  }
}

std::vector<TableStatus> starting_cdc_tables(std::vector<TablePlan>& plans,
                                             const CdcRequest& request,
                                             const std::string& target_schema) {
  std::vector<TableStatus> tables;
  for (auto& plan : plans) {
    if (!target_schema.empty() && plan.target.schema == plan.source.schema) {
      plan.target.schema = target_schema;
    }
    TableStatus status;
    status.source = plan.source;
    status.target = plan.target;
    status.state = request.full_load && !request.resume_from ? TableState::kBeforeLoad
                                                             : TableState::kCompleted;
    status.last_update_time = Clock::now();
    if (request.resume_from) {
      for (const auto& previous : request.previous_tables) {
        if (previous.source != plan.source) continue;
        status = previous;
        status.target = plan.target;
      }
    }
    tables.push_back(std::move(status));
  }
  return tables;
}

CdcResult run_cdc(const CdcRequest& request, CdcObserver& observer) {
  if (request.other_capture) return request.other_capture->run(request, observer);
  return Engine(request, observer).run();
}

void drop_cdc_artifacts(const PgEndpoint& source, const std::string& slot) {
  auto connection = quiet(PgConnection::open(source, kApplicationName));
  drop_slot(connection, slot);
  connection.exec("DROP PUBLICATION IF EXISTS " + quote_ident(publication_with_key(slot)));
  connection.exec("DROP PUBLICATION IF EXISTS " + quote_ident(publication_without_key(slot)));
}

}  // namespace dagster_dms::replicate
