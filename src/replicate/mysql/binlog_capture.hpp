#pragma once

#include <memory>

#include "replicate/cdc.hpp"
#include "replicate/mysql/table_source.hpp"

namespace dagster_dms::replicate::mysql {

// Change capture from a MySQL-family source's binary log (row format), applied to a PostgreSQL
// target by the same ChangeApplier the PostgreSQL source feeds: source transactions become
// target transactions in commit order, each recording its binary log position (binlog_rows.hpp's
// packed form) in the target's awsdms_txn_state, so a resume after a crash continues exactly.
//
// A full-load-and-cdc run loads every table in one snapshot taken under a global read lock and
// starts reading the binary log where that snapshot stands (as mysqldump --single-transaction
// --master-data does). DDL in the binary log is logged, not replayed.
std::shared_ptr<ChangeCapture> make_binlog_capture(std::shared_ptr<MySqlTableSource> source);

}  // namespace dagster_dms::replicate::mysql
