#pragma once

#include <string_view>

#include "replicate/catalog.hpp"
#include "replicate/pg_connection.hpp"

namespace dagster_dms::replicate {

// Several tasks may write one target (a full-load task and a CDC task over the same tables, or one
// task per source schema into one target schema). PostgreSQL runs concurrent `CREATE SCHEMA IF NOT
// EXISTS` or `CREATE TABLE` of one name into a duplicate-key error on its catalog, so every task
// takes these transaction-level advisory locks before it checks for, creates, drops or truncates
// a target object; the lock is held until the transaction (table preparation and load) ends, and
// the next task then sees the table the first one left. Must be called inside a transaction.
void lock_target_schema(PgConnection& target, std::string_view schema);
void lock_target_table(PgConnection& target, const QualifiedName& table);

}  // namespace dagster_dms::replicate
