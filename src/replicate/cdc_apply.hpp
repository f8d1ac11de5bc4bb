#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "replicate/change_sink.hpp"
#include "replicate/pg_connection.hpp"
#include "replicate/pgoutput.hpp"
#include "replicate/table_mapping.hpp"
#include "replicate/txn_state.hpp"

namespace dagster_dms::replicate {

// What one change did, for the table statistics.
enum class ChangeKind { kInsert, kUpdate, kDelete, kDdl };

// Applies decoded changes to a PostgreSQL target: one target transaction per source
// transaction, so the target only ever shows whole source transactions, in commit order.
// Columns are matched by source name through the table plans (renames and removed columns
// apply as in the full load); rows are found by the target's primary key.
class ChangeApplier final : public ChangeSink {
 public:
  // `positions`, when given, records each transaction's end in the target's awsdms_txn_state
  // inside that same target transaction (see TxnStateTable).
  ChangeApplier(PgConnection& target, const std::vector<TablePlan>& plans,
                TxnStateTable* positions = nullptr)
      : target_(target), plans_(plans), positions_(positions) {}

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
  void commit(Lsn end_lsn) override;
  void rollback() noexcept override;
  // A committed target transaction is durable at once.
  [[nodiscard]] Lsn durable() const override { return durable_; }
  [[nodiscard]] bool in_transaction() const { return open_; }

 private:
  struct Binding {
    std::size_t plan = 0;
    // For each relation column: the target column name, or empty when it is not replicated.
    std::vector<std::string> targets;
    // Relation column indexes of the target primary key, in key order.
    std::vector<std::size_t> key;
  };

  const Binding* binding(std::uint32_t relation) const;
  // `WHERE k1 = $n AND ...` with the key values of `row` appended to `params`.
  std::string where_key(const Binding& bound, const pgoutput::Tuple& row,
                        std::vector<std::optional<std::string>>& params) const;

  // Runs `sql` as a prepared statement: a change stream repeats the same few statements, and
  // the target then parses and plans each of them once.
  void execute(const std::string& sql, const std::vector<std::optional<std::string>>& params);

  PgConnection& target_;
  const std::vector<TablePlan>& plans_;
  TxnStateTable* positions_;
  std::map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::map<std::uint32_t, Binding> relations_;
  bool open_ = false;
  std::int64_t commit_time_ = 0;  // of the open transaction
  Lsn durable_ = 0;
};

}  // namespace dagster_dms::replicate
