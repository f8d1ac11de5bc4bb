#include "replicate/mysql/binlog_capture.hpp"

#include <fmt/format.h>
#include <mysql.h>

// After mysql.h, which declares what it uses.
#include <mariadb_rpl.h>

#include <map>
#include <random>
#include <set>

#include "replicate/cdc_apply.hpp"
#include "replicate/mysql/binlog_rows.hpp"
#include "replicate/mysql/catalog.hpp"
#include "replicate/mysql/connection.hpp"
#include "replicate/task_settings.hpp"
#include "replicate/txn_state.hpp"

namespace dagster_dms::replicate::mysql {

namespace {

constexpr std::string_view kApplicationName = "dms-local binlog capture";
using Steady = std::chrono::steady_clock;

struct EventDeleter {
  void operator()(MARIADB_RPL_EVENT* event) const { mariadb_free_rpl_event(event); }
};
using Event = std::unique_ptr<MARIADB_RPL_EVENT, EventDeleter>;

struct RplDeleter {
  void operator()(MARIADB_RPL* rpl) const { mariadb_rpl_close(rpl); }
};

std::string_view text(const MARIADB_STRING& value) {
  return {value.str, value.length};
}

// A failure in DMS's words that ends the run.
class CaptureFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The binary log as a replica reads it (COM_BINLOG_DUMP through MariaDB Connector/C), from a
// file and offset. The server sends a heartbeat every second while it has nothing else, so a
// read never blocks for long and a stop request is seen promptly.
class BinlogReader {
 public:
  BinlogReader(const MySqlEndpoint& endpoint, const std::string& file, std::uint32_t offset)
      : connection_(MySqlConnection::open(endpoint)) {
    connection_.exec("SET @master_heartbeat_period = 1000000000");  // nanoseconds
    connection_.exec("SET @master_binlog_checksum = @@global.binlog_checksum");
    connection_.exec("SET @mariadb_slave_capability = 4");  // MariaDB's GTID events as they are
    rpl_.reset(mariadb_rpl_init(connection_.get()));
    if (!rpl_) throw CaptureFailure("cannot start reading the binary log: out of memory");
    // A server id no real replica of the source uses (a duplicate would disconnect it).
    thread_local std::mt19937 generator{std::random_device{}()};
    const unsigned server_id = 1000000000U + generator() % 1000000000U;
    mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_FILENAME, file.c_str(), file.size());
    mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_START, static_cast<unsigned long>(offset));
    mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_SERVER_ID, server_id);
    mariadb_rpl_optionsv(rpl_.get(), MARIADB_RPL_FLAGS, 0U);
    if (mariadb_rpl_open(rpl_.get()) != 0) throw error();
  }

  Event next() {
    Event event(mariadb_rpl_fetch(rpl_.get(), nullptr));
    if (!event) throw error();
    return event;
  }

 private:
  MySqlError error() const {
    // The dump thread's errors (a purged file, an offset past the end) come back as the
    // connection's; the reader's own (a malformed event) as the replication handle's.
    if (mysql_errno(connection_.get()) != 0) return connection_.error();
    return MySqlError(mariadb_rpl_errno(rpl_.get()), "HY000", mariadb_rpl_error(rpl_.get()));
  }

  MySqlConnection connection_;
  std::unique_ptr<MARIADB_RPL, RplDeleter> rpl_;
};

// A selected table as the binary log's table maps describe it.
struct TableBinding {
  std::optional<std::size_t> plan;  // nullopt: not selected
  std::uint32_t relation = 0;
  std::vector<BinlogColumn> columns;
};

// One decoded row change, held until its transaction commits.
struct RowChange {
  mariadb_row_event_type kind = WRITE_ROWS;
  std::uint32_t relation = 0;
  std::size_t plan = 0;
  pgoutput::Tuple before, after;
  std::size_t bytes = 0;
};

std::vector<bool> bitmap(const unsigned char* bits, std::size_t count) {
  std::vector<bool> out(count, true);
  if (bits == nullptr) return out;
  for (std::size_t i = 0; i < count; ++i) out[i] = ((bits[i / 8] >> (i % 8)) & 1) != 0;
  return out;
}

class Engine {
 public:
  Engine(const CdcRequest& request, CdcObserver& observer, MySqlTableSource& source)
      : request_(request), observer_(observer), source_(source) {}

  CdcResult run() {
    try {
      prepare();
      if (result_.outcome != CdcOutcome::kFailed && !plans_.empty() &&
          !request_.load.stop.stop_requested()) {
        if (position_ready()) replicate();
      }
    } catch (const MySqlError& error) {
      if (applier_) applier_->rollback();
      fail(fmt::format("Error reading the source's binary log ({}): {}",
                       source_.endpoint().describe(), error.what()),
           "SOURCE_CAPTURE", error.is_network() ? ErrorKind::kConnectionLost : ErrorKind::kFatal);
    } catch (const PgError& error) {
      if (applier_) applier_->rollback();
      fail(fmt::format("Failed to apply a change to the target: {}", error.what()), "TARGET_APPLY",
           classify_error(error));
    } catch (const std::exception& error) {
      if (applier_) applier_->rollback();
      fail(error.what());
    }
    report_checkpoint();
    result_.tables = tables_;
    observer_.on_cdc_tables(tables_);
    return std::move(result_);
  }

 private:
  void fail(const std::string& message, std::string_view component = "SOURCE_CAPTURE",
            ErrorKind kind = ErrorKind::kFatal) {
    result_.outcome = CdcOutcome::kFailed;
    result_.failure_message = message;
    result_.error_kind = kind;
    observer_.on_log(LogSeverity::kError, component, message);
  }

  void log(std::string_view component, const std::string& message) {
    observer_.on_log(LogSeverity::kInfo, component, message);
  }

  void report_checkpoint() {
    if (confirmed_ <= reported_) return;
    reported_ = confirmed_;
    observer_.on_checkpoint(confirmed_);
  }

  void prepare() {
    TableMapping mapping;
    try {
      settings_ = parse_full_load_settings(request_.load.task_settings);
      mapping = TableMapping::parse(request_.load.table_mappings);
    } catch (const std::exception& error) {
      return fail(error.what());
    }
    if (auto problem = check_cdc_prerequisites(source_.endpoint())) return fail(*problem);
    catalog_connection_.emplace(MySqlConnection::open(source_.endpoint()));
    read_source_catalog();
    std::vector<SourceTable> tables;
    for (const auto& [name, table] : catalog_) tables.push_back(table.table);
    try {
      plans_ = plan_tables(mapping, tables);
    } catch (const MappingError& error) {
      return fail(error.what());
    }
    if (plans_.empty()) {
      if (settings_.fail_on_no_tables) {
        return fail(kNoTablesFound);
      }
      observer_.on_log(LogSeverity::kWarning, "TASK_MANAGER",
                       "No tables match the selection rules.");
      return;
    }
    tables_ = starting_cdc_tables(plans_, request_, settings_.target_schema);
    const auto* target = std::get_if<PostgresTarget>(&request_.load.target);
    if (target == nullptr) {
      return fail("dms-local applies changes from MySQL-family sources to postgres targets only.");
    }
    target_.emplace(open_task_target(target->endpoint, kApplicationName));
    txn_state_.emplace(*target_, settings_.control_schema, request_.task_name, request_.slot);
  }

  void read_source_catalog() {
    catalog_.clear();
    for (auto& table : read_catalog(*catalog_connection_, source_.endpoint(), false)) {
      auto name = table.table.name;
      catalog_.emplace(std::move(name), std::move(table));
    }
  }

  // Decides where reading starts (and runs the full load first when the task has one). False
  // when the run ends before replication.
  bool position_ready() {
    const auto master = catalog_connection_->query("SHOW MASTER STATUS");
    if (master.empty() || !master[0][0] || !master[0][1]) {
      fail("Binary Logging must be enabled for MySQL server: SHOW MASTER STATUS is empty.");
      return false;
    }
    const std::string current_file = *master[0][0];
    basename_ = current_file.substr(0, current_file.rfind('.'));
    if (request_.resume_from) {
      start_ = *request_.resume_from;
      if (const auto recorded = txn_state_->position(); recorded && *recorded > start_) {
        log("TARGET_APPLY",
            fmt::format("The target has applied changes up to {}, past the stored recovery "
                        "checkpoint {}: continuing from {}.",
                        format_binlog_position(basename_, *recorded),
                        format_binlog_position(basename_, start_),
                        format_binlog_position(basename_, *recorded)));
        start_ = *recorded;
      }
      log("SOURCE_CAPTURE", fmt::format("Resuming from binary log position {}.",
                                        format_binlog_position(basename_, start_)));
    } else if (request_.full_load) {
      const auto [file, position] =
          source_.freeze_snapshot(static_cast<std::size_t>(std::max(1, settings_.max_subtasks)));
      start_ = position;
      log("SOURCE_CAPTURE", fmt::format("Full load snapshot taken at binary log position {}.",
                                        format_binlog_position(basename_, start_)));
    } else if (request_.start_position) {
      start_ = *request_.start_position;
      log("SOURCE_CAPTURE", fmt::format("Starting at CdcStartPosition {}.",
                                        format_binlog_position(basename_, start_)));
    } else {
      const auto number = binlog_file_number(current_file).value_or(0);
      start_ = pack_position(number, static_cast<std::uint32_t>(std::stoul(*master[0][1])));
      log("SOURCE_CAPTURE", fmt::format("Starting at the current binary log position {}.",
                                        format_binlog_position(basename_, start_)));
    }
    if (!check_not_purged()) return false;
    confirmed_ = start_;
    if (!request_.resume_from) txn_state_->record(start_, std::nullopt);
    observer_.on_capturing();
    if (request_.full_load && !request_.resume_from) {
      const auto loaded = run_full_load(request_.load, observer_);
      source_.release_snapshot();
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
        return false;
      }
      if (loaded.outcome == FullLoadOutcome::kStopped) {
        result_.outcome = CdcOutcome::kFullLoadStopped;
        return false;
      }
    } else if (!request_.resume_from) {
      create_missing_cdc_tables(*target_, plans_);
    }
    // From here a resume continues from the binary log, not from a new load.
    observer_.on_checkpoint(start_);
    reported_ = start_;
    return true;
  }

  // DMS's check: the binary log that holds the position must still exist on the source.
  bool check_not_purged() {
    const auto file = format_binlog_position(basename_, start_);
    for (const auto& row : catalog_connection_->query("SHOW BINARY LOGS")) {
      if (!row.empty() && row[0] && binlog_file_number(*row[0]) == position_file(start_)) {
        return true;
      }
    }
    fail(fmt::format(
        "The binary log position {} is no longer available on the source: its binary log file "
        "was purged (binlog_expire_logs_seconds, expire_logs_days or PURGE BINARY LOGS). The "
        "changes since then are lost; start the task with reload-target to load the tables "
        "again.",
        file));
    return false;
  }

  std::uint32_t relation_id(const QualifiedName& name) {
    const auto [it, added] =
        relation_ids_.emplace(name, static_cast<std::uint32_t>(relation_ids_.size() + 1));
    return it->second;
  }

  // A TABLE_MAP event: which table the following row events change, with its columns.
  void on_table_map(const MARIADB_RPL_EVENT& event) {
    const auto& map = event.event.table_map;
    const QualifiedName name{std::string(text(map.database)), std::string(text(map.table))};
    const auto plan = std::find_if(plans_.begin(), plans_.end(),
                                   [&](const TablePlan& p) { return p.source == name; });
    TableBinding binding;
    if (plan == plans_.end()) {
      bindings_[map.table_id] = std::move(binding);
      return;
    }
    binding.plan = static_cast<std::size_t>(plan - plans_.begin());
    binding.relation = relation_id(name);
    auto found = catalog_.find(name);
    if (catalog_stale_ || found == catalog_.end() ||
        found->second.table.columns.size() != map.column_count) {
      read_source_catalog();
      catalog_stale_ = false;
      found = catalog_.find(name);
    }
    if (found == catalog_.end() || found->second.table.columns.size() != map.column_count) {
      throw CaptureFailure(fmt::format(
          "Table {} changed its columns on the source (the binary log has {} columns); dms-local "
          "does not replicate column DDL from MySQL-family sources. Reload the table.",
          name.display(), map.column_count));
    }
    const auto& table = found->second;
    binding.columns.resize(map.column_count);
    for (std::size_t i = 0; i < binding.columns.size(); ++i) {
      auto& column = binding.columns[i];
      column.is_unsigned = table.details[i].is_unsigned;
      column.charset = table.details[i].charset;
      column.labels = table.details[i].labels;
      column.encoding = value_encoding(table.table.columns[i].type);
    }
    read_table_map_metadata(text(map.column_types), text(map.metadata), binding.columns);
    if (!announced_.contains(binding.relation)) {
      pgoutput::Relation relation;
      relation.id = binding.relation;
      relation.schema = name.schema;
      relation.name = name.table;
      for (const auto& column : table.table.columns) {
        pgoutput::RelationColumn described;
        described.name = column.name;
        relation.columns.push_back(std::move(described));
      }
      applier_->on_relation(relation);
      announced_.insert(binding.relation);
    }
    bindings_[map.table_id] = std::move(binding);
  }

  void on_rows(const MARIADB_RPL_EVENT& event) {
    const auto& rows = event.event.rows;
    const auto bound = bindings_.find(rows.table_id);
    if (bound == bindings_.end() || !bound->second.plan) return;
    const auto& binding = bound->second;
    const auto present = bitmap(rows.column_bitmap, rows.column_count);
    const auto present_after =
        rows.type == UPDATE_ROWS ? bitmap(rows.column_update_bitmap, rows.column_count) : present;
    std::string_view data(static_cast<const char*>(rows.row_data), rows.row_data_size);
    while (!data.empty()) {
      const auto before_size = data.size();
      RowChange change;
      change.kind = rows.type;
      change.relation = binding.relation;
      change.plan = *binding.plan;
      if (rows.type == WRITE_ROWS) {
        change.after = decode_row(data, binding.columns, present);
      } else {
        change.before = decode_row(data, binding.columns, present);
        if (rows.type == UPDATE_ROWS)
          change.after = decode_row(data, binding.columns, present_after);
      }
      change.bytes = before_size - data.size();
      pending_.push_back(std::move(change));
    }
  }

  // One source transaction, whole: applied as one target transaction ending at `end`.
  void commit(Lsn end, std::uint32_t commit_seconds) {
    if (end <= confirmed_ || pending_.empty()) {
      // Already on the target (a resume), or nothing of the selected tables: the position
      // moves on without a target transaction.
      pending_.clear();
      return;
    }
    if (request_.before_commit) request_.before_commit(request_.load.stop);
    pgoutput::Begin begin;
    begin.final_lsn = end;
    begin.commit_time = to_pg_timestamp(Clock::time_point(std::chrono::seconds(commit_seconds)));
    applier_->begin(begin);
    std::vector<TableStatus> applied(tables_.size());
    for (auto& change : pending_) {
      auto& table = tables_[change.plan];
      table.last_update_time = Clock::now();
      switch (change.kind) {
        case WRITE_ROWS:
          if (applier_->apply(pgoutput::Insert{change.relation, std::move(change.after)})) {
            ++applied[change.plan].applied_inserts;
          }
          ++table.inserts;
          break;
        case UPDATE_ROWS:
          if (applier_->apply(pgoutput::Update{change.relation, 'O', std::move(change.before),
                                               std::move(change.after)})) {
            ++applied[change.plan].applied_updates;
          }
          ++table.updates;
          break;
        case DELETE_ROWS:
          if (applier_->apply(pgoutput::Delete{change.relation, 'O', std::move(change.before)})) {
            ++applied[change.plan].applied_deletes;
          }
          ++table.deletes;
          break;
      }
      ++read_rows_;
    }
    pending_.clear();
    applier_->commit(end);
    applier_->set_backlog(false);
    applier_->flush(true);
    if (applier_->durable() > confirmed_) {
      confirmed_ = applier_->durable();
      for (std::size_t i = 0; i < tables_.size(); ++i) {
        tables_[i].applied_inserts += applied[i].applied_inserts;
        tables_[i].applied_updates += applied[i].applied_updates;
        tables_[i].applied_deletes += applied[i].applied_deletes;
      }
      applied_rows_ = read_rows_;
      last_commit_seconds_ = commit_seconds;
    }
  }

  void replicate() {
    applier_.emplace(*target_, plans_, settings_.change_tuning, &*txn_state_);
    const auto file = fmt::format("{}.{:06}", basename_, position_file(start_));
    BinlogReader reader(source_.endpoint(), file, position_offset(start_));
    log("SOURCE_CAPTURE",
        fmt::format("Reading the binary log from {}.", format_binlog_position(basename_, start_)));
    std::uint32_t file_number = position_file(start_);
    auto last_report = Steady::now();
    std::int64_t reported_read = 0, reported_applied = 0;
    std::int64_t published = -1;
    CdcMetrics metrics;
    const auto& stop = request_.load.stop;
    while (!stop.stop_requested()) {
      const auto event = reader.next();
      const Lsn next = pack_position(file_number, event->next_event_pos);
      switch (event->event_type) {
        case ROTATE_EVENT: {
          if (const auto number = binlog_file_number(text(event->event.rotate.filename))) {
            file_number = *number;
          }
          break;
        }
        case TABLE_MAP_EVENT:
          on_table_map(*event);
          break;
        case WRITE_ROWS_EVENT_V1:
        case UPDATE_ROWS_EVENT_V1:
        case DELETE_ROWS_EVENT_V1:
        case WRITE_ROWS_EVENT:
        case UPDATE_ROWS_EVENT:
        case DELETE_ROWS_EVENT:
          on_rows(*event);
          break;
        case XID_EVENT:
          commit(next, event->timestamp);
          break;
        case GTID_EVENT:
          pending_.clear();
          // A standalone group (DDL) has no XID: it ends with its one statement.
          standalone_ = (event->event.gtid.flags & 1) != 0;
          break;
        case QUERY_EVENT: {
          const auto statement = text(event->event.query.statement);
          if (statement == "BEGIN") {
            pending_.clear();
          } else if (statement == "COMMIT") {
            commit(next, event->timestamp);  // a non-transactional engine's group
          } else {
            // DDL: logged, not replayed; the catalog is read again at the next table map.
            catalog_stale_ = true;
            if (standalone_ && next > confirmed_) {
              observer_.on_log(
                  LogSeverity::kWarning, "SOURCE_CAPTURE",
                  fmt::format("DDL on the source is not replicated: {}", statement.substr(0, 200)));
            }
          }
          break;
        }
        default:
          break;
      }
      const auto now = Steady::now();
      if (now - last_report >= request_.report_interval) {
        const double seconds = std::chrono::duration<double>(now - last_report).count();
        metrics.throughput_rows_source = static_cast<double>(read_rows_ - reported_read) / seconds;
        metrics.throughput_rows_target =
            static_cast<double>(applied_rows_ - reported_applied) / seconds;
        metrics.incoming_changes = static_cast<double>(pending_.size());
        const bool caught_up = event->event_type == HEARTBEAT_LOG_EVENT && pending_.empty();
        const double lag =
            last_commit_seconds_ == 0
                ? 0
                : std::max(0.0, std::chrono::duration<double>(
                                    Clock::now() -
                                    Clock::time_point(std::chrono::seconds(last_commit_seconds_)))
                                    .count());
        metrics.latency_source_seconds = caught_up ? 0 : lag;
        metrics.latency_target_seconds = caught_up ? 0 : lag;
        reported_read = read_rows_;
        reported_applied = applied_rows_;
        last_report = now;
        observer_.on_cdc_metrics(metrics);
        report_checkpoint();
        if (applied_rows_ != published) {
          observer_.on_cdc_tables(tables_);
          published = applied_rows_;
        }
      }
    }
    // A transaction cut short by the stop is read again by the next run.
    pending_.clear();
    log("SOURCE_CAPTURE", fmt::format("Replication stopped; last confirmed position {}.",
                                      format_binlog_position(basename_, confirmed_)));
  }

  const CdcRequest& request_;
  CdcObserver& observer_;
  MySqlTableSource& source_;
  CdcResult result_;
  FullLoadSettings settings_;
  std::vector<TablePlan> plans_;
  std::vector<TableStatus> tables_;
  std::map<QualifiedName, CatalogTable> catalog_;
  bool catalog_stale_ = false;
  std::optional<MySqlConnection> catalog_connection_;
  std::optional<PgConnection> target_;
  std::optional<TxnStateTable> txn_state_;
  std::optional<ChangeApplier> applier_;
  std::map<std::uint64_t, TableBinding> bindings_;
  std::map<QualifiedName, std::uint32_t> relation_ids_;
  std::set<std::uint32_t> announced_;
  std::vector<RowChange> pending_;
  bool standalone_ = false;
  std::string basename_;
  Lsn start_ = 0, confirmed_ = 0, reported_ = 0;
  std::int64_t read_rows_ = 0, applied_rows_ = 0;
  std::uint32_t last_commit_seconds_ = 0;
};

class BinlogCapture : public ChangeCapture {
 public:
  explicit BinlogCapture(std::shared_ptr<MySqlTableSource> source) : source_(std::move(source)) {}
  CdcResult run(const CdcRequest& request, CdcObserver& observer) override {
    return Engine(request, observer, *source_).run();
  }

 private:
  std::shared_ptr<MySqlTableSource> source_;
};

}  // namespace

std::shared_ptr<ChangeCapture> make_binlog_capture(std::shared_ptr<MySqlTableSource> source) {
  return std::make_shared<BinlogCapture>(std::move(source));
}

}  // namespace dagster_dms::replicate::mysql
