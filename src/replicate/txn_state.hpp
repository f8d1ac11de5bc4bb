#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "replicate/pg_connection.hpp"
#include "replicate/pgoutput.hpp"

namespace dagster_dms::replicate {

// DMS's control table `awsdms_txn_state` on a postgres target: one row per task holding the
// source position everything on the target is confirmed up to. The row is written inside the
// same target transaction as the source transaction it confirms, so the target's data and its
// recorded position can never disagree, whatever kills dms-local between the target's commit and
// the control plane's RecoveryCheckpoint (which is stored after it). dms-local keeps the table on
// every postgres target of a cdc or full-load-and-cdc task, whatever TaskRecoveryTableEnabled
// says: it is what makes a resume exactly-once.
//
// Columns: task_name (the task's resource id, the key), slot_name, checkpoint (the
// RecoveryCheckpoint form), confirmed_lsn (pg_lsn), source_commit_time (commit time of the
// source transaction last applied; NULL before the first), applied_time (target clock).
class TxnStateTable {
 public:
  // Creates the table (and `schema`) when missing. An empty schema means the target's default
  // schema (the first of its search_path), as an empty ControlSchema does.
  TxnStateTable(PgConnection& target, const std::string& schema, std::string task_name,
                std::string slot);

  // The position the target holds for this task; nullopt without a row.
  [[nodiscard]] std::optional<Lsn> position();

  // Records `confirmed` in the target transaction that is open, or on its own outside one. In
  // pipeline mode the statements are only sent: the caller reads their answers with the
  // pipeline's.
  // `commit_time` is the source transaction's commit time (PostgreSQL microseconds), if any.
  void record(Lsn confirmed, std::optional<std::int64_t> commit_time);

 private:
  PgConnection& target_;
  std::string table_;  // quoted, qualified when a schema is given
  std::string task_name_;
  std::string slot_;
  bool prepared_ = false;
};

}  // namespace dagster_dms::replicate
