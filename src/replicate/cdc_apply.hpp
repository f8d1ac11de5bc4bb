#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "replicate/batch_apply.hpp"
#include "replicate/change_processing_tuning.hpp"
#include "replicate/change_sink.hpp"
#include "replicate/pg_connection.hpp"
#include "replicate/pgoutput.hpp"
#include "replicate/table_mapping.hpp"
#include "replicate/txn_state.hpp"

namespace dagster_dms::replicate {

// What one change did, for the table statistics.
enum class ChangeKind { kInsert, kUpdate, kDelete, kDdl };

// Applies decoded changes to a PostgreSQL target. Columns are matched by source name through the
// table plans (renames and removed columns apply as in the full load); rows are found by the
// target's primary key.
//
// Transactional mode (BatchApplyEnabled false, DMS's default): the target only ever shows whole
// source transactions, in commit order. Each source transaction goes into one target
// transaction, and while a backlog waits consecutive source transactions share one, up to
// MinTransactionSize changes or CommitTimeout (their position is recorded with the last of them,
// so a crash before its COMMIT loses the whole group and the slot sends it again). Batch mode
// (BatchApplyEnabled true): a target transaction holds every source transaction gathered for
// BatchApplyTimeoutMin seconds (more while a backlog waits, up to BatchApplyTimeoutMax,
// BatchApplyMemoryLimit or BatchSplitSize), so the target shows changes later and in larger
// steps. A batch never cuts a source transaction: the resume stays exactly-once in both modes.
//
// Consecutive changes of one kind and shape to one table form a run, sent as one set-based
// statement (batch_apply.hpp). Statements go out in libpq's pipeline mode: they are sent without
// waiting for each answer, and the answers are read after the target transaction's COMMIT (or
// every kMaxInFlight statements, which bounds what libpq buffers). A COMMIT's answers are read
// while the stream moves on, so the next source transaction goes out behind it; durable() moves
// once they arrive. The first failed statement fails the target transaction with the target's
// message, as a synchronous apply would.
class ChangeApplier final : public ChangeSink {
 public:
  // `positions`, when given, records each target transaction's end in the target's
  // awsdms_txn_state inside that same target transaction (see TxnStateTable).
  ChangeApplier(PgConnection& target, const std::vector<TablePlan>& plans,
                const ChangeProcessingTuning& tuning, TxnStateTable* positions = nullptr)
      : target_(target), plans_(plans), tuning_(tuning), positions_(positions) {}

  // Learns (or relearns) a relation id; returns the plan index, or nullopt for an unselected
  // table (its changes are then ignored).
  std::optional<std::size_t> on_relation(const pgoutput::Relation& relation) override;
  // ADD COLUMN IF NOT EXISTS / DROP COLUMN IF EXISTS / ALTER COLUMN TYPE in the open
  // transaction: a replay of a transaction the target already has finds the columns as they
  // should be.
  void alter(std::size_t plan, const TargetAlteration& alteration) override;
  // The plan a relation id maps to, if any.
  [[nodiscard]] std::optional<std::size_t> plan_of(std::uint32_t relation) const;

  void begin(const pgoutput::Begin& begin) override;
  // Updates and deletes of a table without a primary key are dropped, as DMS drops them.
  std::optional<std::size_t> apply(const pgoutput::Insert& change) override;
  std::optional<std::size_t> apply(const pgoutput::Update& change) override;
  std::optional<std::size_t> apply(const pgoutput::Delete& change) override;
  std::vector<std::size_t> apply(const pgoutput::Truncate& change) override;
  // Ends the source transaction; the target transaction commits at the next flush() unless a
  // backlog waits and the group is still small.
  void commit(Lsn end_lsn) override;
  // Rolls back a source transaction cut short (and the group it joined), or a failed one.
  // Whole committed source transactions the group holds are kept for flush().
  void rollback() noexcept override;
  void flush(bool force) override;
  void set_backlog(bool waiting) override { backlog_ = waiting; }
  // Batch mode holds a batch younger than BatchApplyTimeoutMin without asking the engine to
  // hurry: the engine waits for the stream as usual and calls flush() when it is quiet.
  [[nodiscard]] bool holding() const override;
  // The end of the last source transaction whose target transaction committed.
  [[nodiscard]] Lsn durable() const override { return durable_; }
  [[nodiscard]] bool in_transaction() const { return open_; }

 private:
  // Statements sent but not answered before the applier reads their answers.
  static constexpr int kMaxInFlight = 1000;
  // A run is sent once it holds this many rows or bytes: the target then executes it while the
  // next run is decoded (a run held to the group's COMMIT would leave the target idle while the
  // stream is read, and dms-local idle while the target works), and its memory stays small.
  static constexpr std::size_t kMaxRunRows = 200;
  static constexpr std::size_t kMaxRunBytes = std::size_t{1} << 20;

  struct Binding {
    std::size_t plan = 0;
    // For each relation column: the target column name, or empty when it is not replicated.
    std::vector<std::string> targets;
    // Relation column indexes of the target primary key, in key order.
    std::vector<std::size_t> key;
    // Prepared statement names by the shape of the change (kind, columns sent): the text is
    // built once per relation and shape.
    std::unordered_map<std::string, std::string> statements;
  };
  using Clock = std::chrono::steady_clock;

  Binding* binding(std::uint32_t relation);
  // The key values of `row` appended to values_; false when the row lacks a key column.
  void key_values(const Binding& bound, const pgoutput::Tuple& row);
  // Whether an update's old row (key or REPLICA IDENTITY FULL) has the new row's key.
  static bool same_key(const Binding& bound, const pgoutput::Tuple& old_row,
                       const pgoutput::Tuple& new_row);
  // `WHERE k1 = $first AND ...`.
  std::string where_key(const Binding& bound, std::size_t first) const;
  // The statement prepared for `shape` of `bound`, prepared from `build()` the first time.
  template <typename Build>
  const std::string& statement(Binding& bound, const std::string& shape, Build build);

  // Sends the prepared statement `name` with `values` as its parameters.
  void send(const std::string& name, const std::vector<const char*>& values);
  // Adds values_ (the change's parameters) to the run of `shape_` for `bound`, sending the run
  // before when the change cannot join it; an update gives its key (see ChangeRun).
  void add_to_run(Binding& bound, const std::vector<const char*>* update_key = nullptr);
  // Sends the run as one statement, if it holds any row.
  void send_run();
  // Streams values_ into the open COPY of `bound`'s table, starting one for `shape_` when none
  // is open for it (inserts while a backlog waits).
  void copy_row(Binding& bound);
  // Ends the open COPY, if any, and reads its answer: throws the target's refusal.
  void end_copy();
  // Reads every result due outside the pipeline; the first failure among them.
  std::optional<PgError> drain_results();
  // Whatever the open run or COPY holds goes to the target (before any other statement).
  void finish_runs() {
    end_copy();
    send_run();
  }
  // The set-based statement for a run of `shape` to `bound`'s table.
  std::string run_sql(const Binding& bound, const std::string& shape);
  // The target columns' types (format_type without modifier) of a plan's table, read once.
  const std::unordered_map<std::string, std::string>& column_types(std::size_t plan);
  // Whether the open group is due to commit.
  [[nodiscard]] bool group_due() const;
  // Sends a statement without parameters.
  void send_text(const char* sql);
  void enter_pipeline();
  // Reads every answer sent for so far; throws the first failure. Leaves pipeline mode when
  // `leave` (before a statement run synchronously).
  void settle(bool leave);
  // Ends a pipeline segment; `commits` is the group end its COMMIT makes durable, if any.
  void sync(std::optional<Lsn> commits);
  // Reads the answers due up to the last sync, or (without `wait`) those already arrived;
  // throws the first failure.
  void collect(bool wait);
  // Sends the open target transaction's COMMIT (its position recorded in it); durable() moves
  // once its answer is read.
  void commit_group();

  PgConnection& target_;
  const std::vector<TablePlan>& plans_;
  ChangeProcessingTuning tuning_;
  TxnStateTable* positions_;
  std::map<std::uint32_t, Binding> relations_;
  std::map<std::size_t, std::unordered_map<std::string, std::string>> column_types_;
  ChangeRun run_;
  Binding* run_binding_ = nullptr;   // the table of run_
  Binding* copy_binding_ = nullptr;  // the table of the open COPY, if one is open
  std::string copy_shape_;           // and the columns it writes
  std::string copy_line_;
  std::size_t statements_prepared_ = 0;
  std::string shape_;                // of the change being applied
  std::vector<const char*> values_;  // its parameters, pointing into the change
  bool open_ = false;                // a source transaction is between begin() and commit()
  bool target_open_ = false;         // a target transaction is open
  bool failed_ = false;              // a statement failed: only a rollback is left
  bool pipeline_ = false;
  // One entry per sync sent and not yet answered: the group end a COMMIT before it confirms.
  std::deque<std::optional<Lsn>> syncs_;
  std::optional<PgError> error_;  // the first failure read since the last throw
  bool committed_since_flush_ = false;
  int in_flight_ = 0;                // statements sent, answers not read
  std::uint64_t group_changes_ = 0;  // changes of the open target transaction
  std::uint64_t group_bytes_ = 0;    // their parameters' size
  Clock::time_point group_started_;  // when its first source transaction began
  int grouped_ = 0;                  // committed source transactions in it
  bool backlog_ = false;
  std::int64_t commit_time_ = 0;  // of the open source transaction
  std::int64_t group_commit_time_ = 0;
  Lsn group_end_ = 0;
  Lsn durable_ = 0;
};

}  // namespace dagster_dms::replicate
