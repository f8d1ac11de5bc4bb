#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "replicate/pgoutput.hpp"
#include "replicate/table_mapping.hpp"

namespace dagster_dms::replicate {

// A column change that reaches the target: columns to add and columns whose type changed (as
// the mapping now plans them), and target column names to drop.
struct TargetAlteration {
  std::vector<MappedColumn> added;
  std::vector<std::string> dropped;
  std::vector<MappedColumn> retyped;
};

// A relation of the change stream matched to the task's table plans: the plan it belongs to and,
// for each relation column, the target column name (empty: the column is not replicated).
struct RelationColumns {
  std::size_t plan = 0;
  std::vector<std::string> targets;
};
// nullopt when no plan selects the relation's table (its changes are then ignored).
std::optional<RelationColumns> match_relation(const std::vector<TablePlan>& plans,
                                              const pgoutput::Relation& relation);

// Where a CDC run writes the changes it reads, chosen by the target type: a PostgreSQL
// database (ChangeApplier) or s3-style CSV files (CdcFileWriter). The engine calls it for every
// decoded message in stream order; one source transaction is one begin()..commit().
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;

  // Learns (or relearns) a relation id; returns the plan index, or nullopt for an unselected
  // table (its changes are then ignored). The plans the sink was built on are read again here,
  // so a plan changed by a column DDL takes effect from this point of the stream.
  virtual std::optional<std::size_t> on_relation(const pgoutput::Relation& relation) = 0;
  // Changes a target table's columns, in stream order with the data changes around it.
  virtual void alter(std::size_t plan, const TargetAlteration& alteration) = 0;

  // The source transaction's Begin: its commit time (TimestampColumnName) and final LSN.
  virtual void begin(const pgoutput::Begin& begin) = 0;
  // Each returns the plan index the change went to (nullopt: not selected, dropped as DMS
  // drops it, or filtered out by the target's settings).
  virtual std::optional<std::size_t> apply(const pgoutput::Insert& change) = 0;
  virtual std::optional<std::size_t> apply(const pgoutput::Update& change) = 0;
  virtual std::optional<std::size_t> apply(const pgoutput::Delete& change) = 0;
  virtual std::vector<std::size_t> apply(const pgoutput::Truncate& change) = 0;
  // The transaction ends at `end_lsn` (what the slot is told once the change is durable).
  virtual void commit(Lsn end_lsn) = 0;
  // Discards an open transaction (a stop mid-transaction); the source sends it again later.
  virtual void rollback() noexcept = 0;

  // Makes the committed transactions durable if the sink batches them: when its batch is due
  // (`force`: now, whatever the batch rules say). Every committed transaction is written at
  // once, so durable() then equals the last commit's end.
  virtual void flush(bool /*force*/) {}
  // Whether more of the stream is waiting to be read right now (the engine says so after each
  // commit). A sink may then hold committed transactions back to write them together; it writes
  // them at the next flush() once the stream has caught up.
  virtual void set_backlog(bool /*waiting*/) {}
  // Committed transactions are held back for a backlog: the engine must not wait for the
  // stream before the next flush().
  [[nodiscard]] virtual bool holding() const { return false; }
  // Every transaction committed up to this position is durable on the target: the only
  // position the slot and the task's RecoveryCheckpoint may be told. 0 before the first.
  [[nodiscard]] virtual Lsn durable() const = 0;
};

}  // namespace dagster_dms::replicate
