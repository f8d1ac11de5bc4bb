#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "dms/dms_client.hpp"
#include "mapping/qualified_name.hpp"

namespace dagster_dms::orchestrate {

struct ReloadOptions {
  std::vector<mapping::QualifiedName> tables;  // source schema and table, as DMS names them
  std::string reload_option = "data-reload";   // or validate-only
  std::chrono::milliseconds timeout{std::chrono::hours(1)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
};

// Why DMS would refuse this ReloadTables request (in words that say what DMS allows), or nullopt
// when it can be sent: the task must be running and load tables (full-load or
// full-load-and-cdc); at most 10 tables, no duplicates; reload option data-reload or
// validate-only.
std::optional<std::string> reload_refusal(const dms::ReplicationTask& task,
                                          const ReloadOptions& options);

struct ReloadResult {
  bool succeeded = false;
  std::string message;
  std::vector<dms::TableStatistics> tables;  // the reloaded tables as last seen
};

// Sends ReloadTables and waits until every named table has loaded again (TableState `Table
// completed` with a new FullLoadEndTime; for validate-only, until validation is no longer
// pending), or one of them fails, or the timeout passes. Refusals come back as a failed result
// with reload_refusal()'s message; nothing is sent then.
ReloadResult reload_tables(dms::DmsClient& client, aws::Clock& clock, const std::string& task_arn,
                           const ReloadOptions& options,
                           const std::function<bool()>& cancelled = {});

}  // namespace dagster_dms::orchestrate
