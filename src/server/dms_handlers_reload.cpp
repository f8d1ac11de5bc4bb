// ReloadTables: reload a few tables of a running task, through the data plane.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "server/api_error.hpp"
#include "server/dms_service.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::size_t kMaxTablesToReload = 10;

bool validation_enabled(const Record& task) {
  try {
    const auto settings = nlohmann::json::parse(task.doc.value("ReplicationTaskSettings", "{}"));
    return settings.contains("ValidationSettings") && settings["ValidationSettings"].is_object() &&
           settings["ValidationSettings"].value("EnableValidation", false);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

nlohmann::json DmsService::reload_tables(const RequestContext& context,
                                         const nlohmann::json& body) {
  const auto request = parse_request<dms::ReloadTablesMessage>(body);
  auto record = require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto option = request.reload_option.value_or("data-reload");
  if (option != "data-reload" && option != "validate-only") {
    throw invalid_parameter(fmt::format(
        "Invalid value {} for ReloadOption. Valid values: data-reload, validate-only.", option));
  }
  if (request.tables_to_reload.empty() || request.tables_to_reload.size() > kMaxTablesToReload) {
    throw invalid_parameter(
        fmt::format("TablesToReload must name between 1 and {} tables.", kMaxTablesToReload));
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& table : request.tables_to_reload) {
    if (table.schema_name.empty() || table.table_name.empty()) {
      throw invalid_parameter("Each table to reload needs a SchemaName and a TableName.");
    }
    if (!seen.emplace(table.schema_name, table.table_name).second) {
      throw invalid_parameter(fmt::format("Table {}.{} is listed more than once in TablesToReload.",
                                          table.schema_name, table.table_name));
    }
  }
  // AWS: only a task in the running state can reload tables; a full-load task that has finished
  // (stopped) cannot: restart it with reload-target instead.
  const auto status = record.doc.value("Status", "");
  if (status != "running") {
    throw invalid_state(fmt::format(
        "Replication task {} is {}; tables can be reloaded only while the task is running.",
        record.identifier, status));
  }
  const auto migration = record.doc.value("MigrationType", "full-load");
  if (migration == "cdc") {
    throw invalid_state(fmt::format(
        "Replication task {} is a cdc task; only full-load and full-load-and-cdc tasks reload "
        "tables.",
        record.identifier));
  }
  if (option == "validate-only") {
    if (!validation_enabled(record)) {
      throw invalid_parameter(fmt::format(
          "ReloadOption validate-only needs data validation, which task {} does not enable.",
          record.identifier));
    }
    throw invalid_parameter("dms-local does not validate data; validate-only cannot run.");
  }

  // Each table must be one the task knows (it is in the task's table statistics).
  auto statistics = store_.table_statistics(record.arn);
  std::vector<std::string> problems;
  for (const auto& table : request.tables_to_reload) {
    const bool known = std::any_of(statistics.begin(), statistics.end(), [&](const auto& stat) {
      return stat.value("SchemaName", "") == table.schema_name &&
             stat.value("TableName", "") == table.table_name;
    });
    if (!known) {
      problems.push_back(
          fmt::format("{}.{}: not a table of this task", table.schema_name, table.table_name));
    }
  }
  if (problems.empty()) {
    // Executor calls take only the executor's own locks, never the service's: safe here.
    const auto answers = executor_.reload(record.arn, request.tables_to_reload);
    for (std::size_t i = 0; i < answers.size() && i < request.tables_to_reload.size(); ++i) {
      if (answers[i].empty()) continue;
      problems.push_back(fmt::format("{}.{}: {}", request.tables_to_reload[i].schema_name,
                                     request.tables_to_reload[i].table_name, answers[i]));
    }
  }
  if (!problems.empty()) {
    std::string joined;
    for (const auto& problem : problems) joined += (joined.empty() ? "" : "; ") + problem;
    throw invalid_parameter(
        fmt::format("Cannot reload tables of task {}: {}", record.identifier, joined));
  }
  // Shown at once, as the console does; the data plane's next report keeps it until the reload
  // is done.
  for (auto& stat : statistics) {
    for (const auto& table : request.tables_to_reload) {
      if (stat.value("SchemaName", "") == table.schema_name &&
          stat.value("TableName", "") == table.table_name) {
        stat["TableState"] = "Table is being reloaded";
      }
    }
  }
  store_.replace_table_statistics(record.arn, statistics);
  return {{"ReplicationTaskArn", record.arn}};
}

}  // namespace dagster_dms::server
