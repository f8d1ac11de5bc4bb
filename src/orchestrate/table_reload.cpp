#include "orchestrate/table_reload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

#include "orchestrate/runner.hpp"
#include "orchestrate/table_state.hpp"

namespace dagster_dms::orchestrate {
namespace {

constexpr std::size_t kMaxTablesPerReload = 10;

std::string table_text(const mapping::QualifiedName& name) {
  return name.schema + "." + name.table;
}

using Baseline = std::map<mapping::QualifiedName, std::optional<dms::Timestamp>>;

std::vector<dms::TableStatistics> named_tables(dms::DmsClient& client, const std::string& task_arn,
                                               const std::vector<mapping::QualifiedName>& names) {
  dms::DescribeTableStatisticsMessage request;
  request.replication_task_arn = task_arn;
  std::vector<dms::TableStatistics> found;
  const std::set<mapping::QualifiedName> wanted(names.begin(), names.end());
  for (auto& table : client.describe_table_statistics_all(request)) {
    if (wanted.contains({table.schema_name.value_or(""), table.table_name.value_or("")})) {
      found.push_back(std::move(table));
    }
  }
  return found;
}

bool validation_pending(std::string_view state) {
  constexpr std::array<std::string_view, 3> kPending{"Pending validation", "Preparing table",
                                                     "Pending revalidation"};
  return std::find(kPending.begin(), kPending.end(), state) != kPending.end();
}

}  // namespace

std::optional<std::string> reload_refusal(const dms::ReplicationTask& task,
                                          const ReloadOptions& options) {
  const auto id = task.replication_task_identifier.value_or("the task");
  if (options.reload_option != "data-reload" && options.reload_option != "validate-only") {
    return fmt::format("reload_option '{}' is not one of data-reload, validate-only",
                       options.reload_option);
  }
  if (options.tables.empty()) return std::string("reload_tables names no table");
  if (options.tables.size() > kMaxTablesPerReload) {
    return fmt::format("DMS reloads at most {} tables per request; {} were named",
                       kMaxTablesPerReload, options.tables.size());
  }
  const std::set<mapping::QualifiedName> unique(options.tables.begin(), options.tables.end());
  if (unique.size() != options.tables.size()) {
    return std::string("reload_tables names a table twice; DMS refuses duplicates");
  }
  if (task.migration_type.value_or("") == "cdc") {
    return fmt::format(
        "{} is a cdc-only task: DMS reloads tables only for full-load and full-load-and-cdc "
        "tasks; start it with start_type reload-target to load everything again",
        id);
  }
  const auto status = task.status.value_or("");
  if (status != "running") {
    return fmt::format(
        "{} is '{}': DMS reloads tables only while the task is running; materialize the task to "
        "start it (a full-load task loads every table again), then reload",
        id, status);
  }
  return std::nullopt;
}

ReloadResult reload_tables(dms::DmsClient& client, aws::Clock& clock, const std::string& task_arn,
                           const ReloadOptions& options, const std::function<bool()>& cancelled) {
  ReloadResult result;
  TaskRunner runner(client, clock);
  if (auto refusal = reload_refusal(runner.describe(task_arn), options)) {
    result.message = *refusal;
    return result;
  }
  Baseline baseline;
  for (const auto& table : named_tables(client, task_arn, options.tables)) {
    baseline[{*table.schema_name, *table.table_name}] = table.full_load_end_time;
  }
  dms::ReloadTablesMessage request;
  request.replication_task_arn = task_arn;
  request.reload_option = options.reload_option;
  for (const auto& name : options.tables)
    request.tables_to_reload.push_back({name.schema, name.table, {}});
  client.reload_tables(request);

  const bool validate_only = options.reload_option == "validate-only";
  const auto deadline = clock.now() + options.timeout;
  while (true) {
    result.tables = named_tables(client, task_arn, options.tables);
    std::size_t done = 0;
    for (const auto& table : result.tables) {
      const mapping::QualifiedName name{*table.schema_name, *table.table_name};
      if (auto failure =
              table_failure(table.table_state.value_or(""), table.validation_state.value_or(""))) {
        result.message = fmt::format("{} failed to reload: {}", table_text(name), *failure);
        return result;
      }
      const bool loaded = validate_only ? !validation_pending(table.validation_state.value_or(""))
                                        : table.table_state.value_or("") == "Table completed" &&
                                              table.full_load_end_time != baseline[name];
      if (loaded) ++done;
    }
    if (done == options.tables.size()) {
      result.succeeded = true;
      result.message = fmt::format("reloaded {} table(s) ({})", done, options.reload_option);
      return result;
    }
    if (clock.now() >= deadline) {
      result.message =
          fmt::format("{} of {} table(s) reloaded before the timeout", done, options.tables.size());
      return result;
    }
    if (cancelled && cancelled()) {
      result.message = "the reload wait was cancelled; DMS goes on reloading";
      return result;
    }
    clock.sleep_for(options.poll_interval);
  }
}

}  // namespace dagster_dms::orchestrate
