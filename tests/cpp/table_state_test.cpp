// What DMS's table statistics mean for a table asset, and what ReloadTables allows.
#include "orchestrate/table_state.hpp"

#include <gtest/gtest.h>

#include "orchestrate/table_reload.hpp"

namespace orch = dagster_dms::orchestrate;
namespace dms = dagster_dms::dms;

namespace {

dms::ReplicationTask task(const std::string& status, const std::string& migration_type) {
  dms::ReplicationTask t;
  t.replication_task_identifier = "orders";
  t.status = status;
  t.migration_type = migration_type;
  return t;
}

orch::ReloadOptions reload(std::size_t tables) {
  orch::ReloadOptions options;
  for (std::size_t i = 0; i < tables; ++i) options.tables.push_back({"s", "t" + std::to_string(i)});
  return options;
}

}  // namespace

TEST(TableState, RowCountIsFullLoadPlusInsertsMinusDeletes) {
  dms::TableStatistics table;
  EXPECT_EQ(orch::target_row_count(table), 0);
  table.full_load_rows = 100;
  table.inserts = 7;
  table.deletes = 3;
  table.updates = 50;  // updates don't change the count
  EXPECT_EQ(orch::target_row_count(table), 104);
}

TEST(TableState, TableErrorAndFailedValidationAreFailures) {
  EXPECT_EQ(orch::table_failure("Table completed", "Validated"), std::nullopt);
  EXPECT_EQ(orch::table_failure("Table completed", "No primary key"), std::nullopt);
  EXPECT_EQ(orch::table_failure("Full load", "Not enabled"), std::nullopt);
  EXPECT_EQ(orch::table_failure("Table error", ""), "TableState is 'Table error'");
  EXPECT_EQ(orch::table_failure("Table completed", "Mismatched records"),
            "ValidationState is 'Mismatched records'");
  EXPECT_TRUE(orch::table_failure("Table completed", "Suspended records").has_value());
  EXPECT_TRUE(orch::table_failure("Table completed", "Error").has_value());
}

TEST(TableReload, OnlyARunningTaskThatLoadsTablesCanReload) {
  EXPECT_EQ(orch::reload_refusal(task("running", "full-load-and-cdc"), reload(1)), std::nullopt);
  EXPECT_EQ(orch::reload_refusal(task("running", "full-load"), reload(10)), std::nullopt);
  const auto stopped = orch::reload_refusal(task("stopped", "full-load-and-cdc"), reload(1));
  ASSERT_TRUE(stopped.has_value());
  EXPECT_NE(stopped->find("only while the task is running"), std::string::npos) << *stopped;
  const auto cdc = orch::reload_refusal(task("running", "cdc"), reload(1));
  ASSERT_TRUE(cdc.has_value());
  EXPECT_NE(cdc->find("cdc-only"), std::string::npos) << *cdc;
}

TEST(TableReload, RequestShapeFollowsDms) {
  const auto running = task("running", "full-load-and-cdc");
  EXPECT_NE(orch::reload_refusal(running, reload(11))->find("at most 10"), std::string::npos);
  EXPECT_NE(orch::reload_refusal(running, reload(0))->find("names no table"), std::string::npos);
  auto twice = reload(1);
  twice.tables.push_back(twice.tables.front());
  EXPECT_NE(orch::reload_refusal(running, twice)->find("twice"), std::string::npos);
  auto option = reload(1);
  option.reload_option = "everything";
  EXPECT_NE(orch::reload_refusal(running, option)->find("reload_option"), std::string::npos);
}
