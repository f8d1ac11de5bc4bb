#pragma once

#include <string_view>

namespace dagster_dms::orchestrate {

// What the statuses of DMS resources other than runs mean (a run's are judged in
// task_verdict.hpp). Written here once, so that no caller compares status strings itself.

// A replication instance that can run tasks and test connections.
bool is_instance_available(std::string_view status);

// A connection test (DescribeConnections) that failed.
bool is_connection_failed(std::string_view status);

// A table whose load or apply failed (TableState "Table error", any capitalisation).
bool is_table_errored(std::string_view table_state);

}  // namespace dagster_dms::orchestrate
