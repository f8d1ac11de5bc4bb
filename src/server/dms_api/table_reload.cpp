#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/run_types.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::size_t kMaxTablesToReload = 10;

bool validation_enabled(const std::string& settings_text) {
  try {
    const auto settings = nlohmann::json::parse(settings_text.empty() ? "{}" : settings_text);
    return settings.contains("ValidationSettings") && settings["ValidationSettings"].is_object() &&
           settings["ValidationSettings"].value("EnableValidation", false);
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// What one reload request is about, whichever resource it names.
struct ReloadTarget {
  std::string what;  // "Replication task x", for messages
  bool running = false;
  std::string_view status;
  std::string migration_type;
  std::string settings;
};

// The checks that need no data plane; throws the fault AWS answers.
void check_reload(const ReloadTarget& target, const std::vector<dms::TableToReload>& tables,
                  const std::string& option) {
  if (option != "data-reload" && option != "validate-only") {
    throw invalid_parameter(fmt::format(
        "Invalid value {} for ReloadOption. Valid values: data-reload, validate-only.", option));
  }
  if (tables.empty() || tables.size() > kMaxTablesToReload) {
    throw invalid_parameter(
        fmt::format("TablesToReload must name between 1 and {} tables.", kMaxTablesToReload));
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& table : tables) {
    if (table.schema_name.empty() || table.table_name.empty()) {
      throw invalid_parameter("Each table to reload needs a SchemaName and a TableName.");
    }
    if (!seen.emplace(table.schema_name, table.table_name).second) {
      throw invalid_parameter(fmt::format("Table {}.{} is listed more than once in TablesToReload.",
                                          table.schema_name, table.table_name));
    }
  }
  // AWS: only a replication in the running state can reload tables; a full load that has
  // finished (stopped) cannot: restart it with reload-target instead.
  if (!target.running) {
    throw invalid_state(fmt::format("{} is {}; tables can be reloaded only while it is running.",
                                    target.what, target.status));
  }
  if (target.migration_type == kMigrationCdc) {
    throw invalid_state(fmt::format(
        "{} is cdc only; only full-load and full-load-and-cdc replications reload tables.",
        target.what));
  }
  if (option == "validate-only") {
    if (!validation_enabled(target.settings)) {
      throw invalid_parameter(
          fmt::format("ReloadOption validate-only needs data validation, which {} does not enable.",
                      target.what));
    }
  }
}

bool same_table(const nlohmann::json& stat, const dms::TableToReload& table) {
  return stat.value("SchemaName", "") == table.schema_name &&
         stat.value("TableName", "") == table.table_name;
}

// TablesToReload of a request the generated models do not cover (ReloadReplicationTables).
std::vector<dms::TableToReload> tables_of(const nlohmann::json& body) {
  if (!body.contains("TablesToReload") || !body["TablesToReload"].is_array()) {
    throw invalid_parameter("TablesToReload is required.");
  }
  std::vector<dms::TableToReload> tables;
  for (const auto& item : body["TablesToReload"]) {
    dms::TableToReload table;
    try {
      dms::from_json(item, table);
    } catch (const std::exception& error) {
      throw invalid_parameter(fmt::format("Invalid TablesToReload: {}", error.what()));
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

void reload_known_tables(ControlPlane& plane, const std::string& arn, const std::string& what,
                         const std::vector<dms::TableToReload>& tables, bool validate_only) {
  // Each table must be one the replication knows (it is in its table statistics).
  auto statistics = plane.store.table_statistics(arn);
  std::vector<std::string> problems;
  for (const auto& table : tables) {
    if (std::none_of(statistics.begin(), statistics.end(),
                     [&](const auto& stat) { return same_table(stat, table); })) {
      problems.push_back(fmt::format("{}.{}: not a table of this replication", table.schema_name,
                                     table.table_name));
    }
  }
  if (problems.empty()) {
    // Executor calls take only the executor's own locks, never the service's: safe here.
    const auto answers =
        validate_only ? plane.executor.validate(arn, tables) : plane.executor.reload(arn, tables);
    for (std::size_t i = 0; i < answers.size() && i < tables.size(); ++i) {
      if (answers[i].empty()) continue;
      problems.push_back(
          fmt::format("{}.{}: {}", tables[i].schema_name, tables[i].table_name, answers[i]));
    }
  }
  if (!problems.empty()) {
    std::string joined;
    for (const auto& problem : problems) joined += (joined.empty() ? "" : "; ") + problem;
    throw invalid_parameter(fmt::format("Cannot reload tables of {}: {}", what, joined));
  }
  // Shown at once, as the console does; the data plane's next report keeps it until the reload
  // is done.
  for (auto& stat : statistics) {
    for (const auto& table : tables) {
      if (!same_table(stat, table)) continue;
      // validate-only leaves the data alone: only the table's validation starts again.
      if (validate_only) {
        stat["ValidationState"] = "Pending revalidation";
      } else {
        stat["TableState"] = "Table is being reloaded";
      }
    }
  }
  plane.store.replace_table_statistics(arn, statistics);
}

nlohmann::json reload_task_tables(ControlPlane& plane, const RequestContext& context,
                                  const nlohmann::json& body) {
  const auto request = parse_request<dms::ReloadTablesMessage>(body);
  const auto record = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto status = status_in<TaskStatus>(record.doc);
  const ReloadTarget target{fmt::format("Replication task {}", record.identifier),
                            status == TaskStatus::kRunning, to_wire(status),
                            record.doc.value("MigrationType", "full-load"),
                            record.doc.value("ReplicationTaskSettings", "")};
  const auto option = request.reload_option.value_or("data-reload");
  check_reload(target, request.tables_to_reload, option);
  reload_known_tables(plane, record.arn, target.what, request.tables_to_reload,
                      option == "validate-only");
  return {{"ReplicationTaskArn", record.arn}};
}

nlohmann::json reload_replication_tables(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body) {
  if (!body.contains("ReplicationConfigArn") || !body["ReplicationConfigArn"].is_string()) {
    throw invalid_parameter("ReplicationConfigArn is required.");
  }
  const auto tables = tables_of(body);
  std::string option = "data-reload";
  if (body.contains("ReloadOption")) {
    if (!body["ReloadOption"].is_string())
      throw invalid_parameter("ReloadOption must be a string.");
    option = body["ReloadOption"].get<std::string>();
  }
  const auto record = plane.require(context, ResourceKind::kReplicationConfig,
                                    body["ReplicationConfigArn"].get<std::string>());
  const auto status =
      status_in<ReplicationStatus>(record.internal.value("replication", nlohmann::json::object()));
  const ReloadTarget target{fmt::format("Replication {}", record.identifier),
                            status == ReplicationStatus::kRunning, to_wire(status),
                            record.doc.value("ReplicationType", "full-load"),
                            record.doc.value("ReplicationSettings", "")};
  check_reload(target, tables, option);
  reload_known_tables(plane, record.arn, target.what, tables, option == "validate-only");
  return {{"ReplicationConfigArn", record.arn}};
}

}  // namespace

void register_table_reload(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"ReloadTables", reload_task_tables},
                  {"ReloadReplicationTables", reload_replication_tables}});
}

}  // namespace dagster_dms::server
