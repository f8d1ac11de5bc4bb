#include "replicate/txn_state.hpp"

#include <fmt/format.h>

#include "replicate/cdc.hpp"
#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {

namespace {

constexpr const char* kStatement = "dms_local_txn_state";

}  // namespace

TxnStateTable::TxnStateTable(PgConnection& target, const std::string& schema, std::string task_name,
                             std::string slot)
    : target_(target), task_name_(std::move(task_name)), slot_(std::move(slot)) {
  table_ = schema.empty() ? quote_ident("awsdms_txn_state")
                          : quote_qualified(QualifiedName{schema, "awsdms_txn_state"});
  if (!schema.empty()) target_.exec(create_schema_sql(schema));
  try {
    target_.exec(fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (task_name text PRIMARY KEY, slot_name text NOT NULL, "
        "checkpoint text NOT NULL, confirmed_lsn pg_lsn NOT NULL, source_commit_time "
        "timestamptz, applied_time timestamptz NOT NULL)",
        table_));
  } catch (const PgError& error) {
    // Another task's run created it at the same moment (IF NOT EXISTS does not lock).
    if (error.sqlstate() != "23505" && error.sqlstate() != "42P07") throw;
  }
}

std::optional<Lsn> TxnStateTable::position() {
  const auto result = target_.exec_params(
      fmt::format("SELECT confirmed_lsn::text FROM {} WHERE task_name = $1", table_), {task_name_});
  if (PQntuples(result.get()) == 0) return std::nullopt;
  return parse_lsn(PQgetvalue(result.get(), 0, 0));
}

void TxnStateTable::record(Lsn confirmed, std::optional<std::int64_t> commit_time) {
  const bool pipelined = PQpipelineStatus(target_.get()) != PQ_PIPELINE_OFF;
  if (!prepared_) {
    // PostgreSQL timestamps count microseconds from 2000-01-01 UTC.
    const auto sql = fmt::format(
        "INSERT INTO {} AS s (task_name, slot_name, checkpoint, confirmed_lsn, "
        "source_commit_time, applied_time) VALUES ($1, $2, $3, $4::pg_lsn, "
        "timestamptz '2000-01-01 00:00:00+00' + $5::bigint * interval '1 microsecond', "
        "clock_timestamp()) ON CONFLICT (task_name) DO UPDATE SET slot_name = "
        "EXCLUDED.slot_name, checkpoint = EXCLUDED.checkpoint, confirmed_lsn = "
        "EXCLUDED.confirmed_lsn, source_commit_time = EXCLUDED.source_commit_time, "
        "applied_time = EXCLUDED.applied_time",
        table_);
    if (pipelined) {
      if (PQsendPrepare(target_.get(), kStatement, sql.c_str(), 0, nullptr) != 1) {
        throw target_.error_from(nullptr);
      }
    } else {
      PgResult result(PQprepare(target_.get(), kStatement, sql.c_str(), 0, nullptr));
      if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        throw target_.error_from(result.get());
      }
    }
    prepared_ = true;
  }
  const auto checkpoint = recovery_checkpoint(confirmed);
  const auto lsn = format_lsn(confirmed);
  const auto micros = commit_time ? std::optional(std::to_string(*commit_time)) : std::nullopt;
  const char* values[] = {task_name_.c_str(), slot_.c_str(), checkpoint.c_str(), lsn.c_str(),
                          micros ? micros->c_str() : nullptr};
  if (pipelined) {
    if (PQsendQueryPrepared(target_.get(), kStatement, 5, values, nullptr, nullptr, 0) != 1) {
      throw target_.error_from(nullptr);
    }
    return;
  }
  PgResult result(PQexecPrepared(target_.get(), kStatement, 5, values, nullptr, nullptr, 0));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    throw target_.error_from(result.get());
  }
}

}  // namespace dagster_dms::replicate
