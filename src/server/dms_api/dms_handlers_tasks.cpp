// CreateReplicationTask, DescribeReplicationTasks, ModifyReplicationTask, DeleteReplicationTask,
// DescribeTableStatistics.
#include <fmt/format.h>

#include <set>

#include "server/dms_api/cdc_position_rules.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/filters.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/task_settings.hpp"
#include "server/front/api_error.hpp"
#include "server/front/pagination.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::int64_t kTaskQuota = 600;
constexpr std::size_t kTasksPerInstance = 200;
constexpr std::size_t kEndpointsPerInstance = 100;
constexpr std::size_t kIdentifierMax = 255;

const FilterSpec kTaskFilters{{"replication-task-arn", "replication-task-id", "migration-type",
                               "endpoint-arn", "replication-instance-arn"},
                              {}};
const FilterSpec kTableFilters{{"schema-name", "table-name", "table-state"}, {}};

void require_migration_type(const std::string& type) {
  if (type != "full-load" && type != "cdc" && type != "full-load-and-cdc") {
    throw invalid_parameter(fmt::format(
        "Invalid value {} for MigrationType. Valid values: full-load, cdc, full-load-and-cdc.",
        type));
  }
}

nlohmann::json public_task(const Record& record, bool without_settings) {
  dms::ReplicationTask task;
  dms::from_json(record.doc, task);
  if (without_settings) task.replication_task_settings.reset();
  nlohmann::json out;
  dms::to_json(out, task);
  return out;
}

bool is_active(const std::string& status) {
  return status == "starting" || status == "running" || status == "stopping";
}

}  // namespace

nlohmann::json DmsService::create_task(const RequestContext& context, const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateReplicationTaskMessage>(body);
  require_valid_identifier("ReplicationTaskIdentifier", request.replication_task_identifier,
                           kIdentifierMax);
  require_migration_type(request.migration_type);
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  if (request.resource_identifier) {
    require_valid_identifier("ResourceIdentifier", *request.resource_identifier, 31);
  }
  validate_table_mappings(request.table_mappings);
  const auto source = require(context, ResourceKind::kEndpoint, request.source_endpoint_arn);
  const auto target = require(context, ResourceKind::kEndpoint, request.target_endpoint_arn);
  const auto instance = require(context, ResourceKind::kInstance, request.replication_instance_arn);
  if (source.doc.value("EndpointType", "") != "SOURCE") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a source endpoint.", source.arn));
  }
  require_valid_cdc_positions(request.cdc_start_time.has_value(), request.cdc_start_position,
                              request.cdc_stop_position, source.doc.value("EngineName", ""));
  if (target.doc.value("EndpointType", "") != "TARGET") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a target endpoint.", target.arn));
  }
  if (instance.doc.value("ReplicationInstanceStatus", "") != "available") {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", instance.identifier));
  }
  if (store_.find_by_identifier(ResourceKind::kTask, context.account, context.region,
                                request.replication_task_identifier)) {
    throw already_exists(fmt::format("Replication Task with identifier {} already exists",
                                     request.replication_task_identifier));
  }
  const auto tasks = store_.list(ResourceKind::kTask, context.account, context.region);
  if (static_cast<std::int64_t>(tasks.size()) >= kTaskQuota) {
    throw quota_exceeded(fmt::format(
        "Account quota ReplicationTasks ({}) exceeded; delete tasks first.", kTaskQuota));
  }
  std::size_t on_instance = 0;
  std::set<std::string> endpoints{source.arn, target.arn};
  for (const auto& task : tasks) {
    if (task.doc.value("ReplicationInstanceArn", "") != instance.arn) continue;
    ++on_instance;
    endpoints.insert(task.doc.value("SourceEndpointArn", ""));
    endpoints.insert(task.doc.value("TargetEndpointArn", ""));
  }
  if (on_instance >= kTasksPerInstance) {
    throw quota_exceeded(
        fmt::format("Replication instance {} already has {} tasks, the most one "
                    "instance can have.",
                    instance.identifier, kTasksPerInstance));
  }
  if (endpoints.size() > kEndpointsPerInstance) {
    throw quota_exceeded(fmt::format("Replication instance {} would use more than {} endpoints.",
                                     instance.identifier, kEndpointsPerInstance));
  }

  Record record;
  record.identifier = request.replication_task_identifier;
  record.account = context.account;
  record.region = context.region;
  const auto resource_id = request.resource_identifier.value_or(random_resource_id());
  record.arn = make_arn(context.region, context.account, ResourceKind::kTask, resource_id);
  if (store_.find_by_arn(ResourceKind::kTask, record.arn)) {
    throw already_exists(fmt::format("ResourceIdentifier {} is already in use", resource_id));
  }
  record.doc = {
      {"ReplicationTaskIdentifier", record.identifier},
      {"SourceEndpointArn", source.arn},
      {"TargetEndpointArn", target.arn},
      {"ReplicationInstanceArn", instance.arn},
      {"MigrationType", request.migration_type},
      {"TableMappings", request.table_mappings},
      {"ReplicationTaskSettings",
       complete_task_settings(request.replication_task_settings, instance.identifier, resource_id,
                              /*on_create=*/true)},
      {"Status", "creating"},
      {"ReplicationTaskCreationDate", now_json()},
      {"ReplicationTaskArn", record.arn},
  };
  if (request.cdc_start_position) record.doc["CdcStartPosition"] = *request.cdc_start_position;
  if (request.cdc_stop_position) record.doc["CdcStopPosition"] = *request.cdc_stop_position;
  if (request.task_data) record.doc["TaskData"] = *request.task_data;
  record.internal["ready_at_ms"] = now_millis() + options_.task_create_delay.count();
  record.internal["runs"] = 0;
  record.internal["run_id"] = 0;
  store_.insert(ResourceKind::kTask, record);
  put_request_tags(record.arn, request.tags);
  return {{"ReplicationTask", public_task(record, false)}};
}

nlohmann::json DmsService::describe_tasks(const RequestContext& context,
                                          const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationTasksMessage>(body);
  validate_filters(request.filters, kTaskFilters);
  std::vector<Record> matched;
  std::vector<std::string> keys;
  for (auto& record : list_refreshed(context, ResourceKind::kTask)) {
    const bool match = matches_filters(request.filters, kTaskFilters, [&](std::string_view name) {
      if (name == "replication-task-arn") return std::vector<std::string>{record.arn};
      if (name == "replication-task-id") return std::vector<std::string>{record.identifier};
      if (name == "migration-type") {
        return std::vector<std::string>{record.doc.value("MigrationType", "")};
      }
      if (name == "endpoint-arn") {
        return std::vector<std::string>{record.doc.value("SourceEndpointArn", ""),
                                        record.doc.value("TargetEndpointArn", "")};
      }
      return std::vector<std::string>{record.doc.value("ReplicationInstanceArn", "")};
    });
    if (!match) continue;
    keys.push_back(record.identifier);
    matched.push_back(std::move(record));
  }
  if (matched.empty() && has_filters(request.filters)) {
    throw not_found("No Tasks found matching provided filters");
  }
  const auto window = page_window(keys, request.max_records, request.marker, {});
  const bool without_settings = request.without_settings.value_or(false);
  nlohmann::json tasks = nlohmann::json::array();
  for (auto i = window.begin; i < window.end; ++i) {
    tasks.push_back(public_task(matched[i], without_settings));
  }
  nlohmann::json out = {{"ReplicationTasks", tasks}};
  if (window.next_marker) out["Marker"] = *window.next_marker;
  return out;
}

nlohmann::json DmsService::modify_task(const RequestContext& context, const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyReplicationTaskMessage>(body);
  auto record = require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto status = record.doc.value("Status", "");
  if (status != "ready" && status != "stopped" && status != "failed") {
    throw invalid_state(fmt::format(
        "Replication task {} is {}; it can be modified only when ready, stopped or failed.",
        record.identifier, status));
  }
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  require_valid_cdc_positions(request.cdc_start_time.has_value(), request.cdc_start_position,
                              request.cdc_stop_position, source_engine_of(record));
  if (request.replication_task_identifier &&
      *request.replication_task_identifier != record.identifier) {
    require_valid_identifier("ReplicationTaskIdentifier", *request.replication_task_identifier,
                             kIdentifierMax);
    if (store_.find_by_identifier(ResourceKind::kTask, context.account, context.region,
                                  *request.replication_task_identifier)) {
      throw already_exists(fmt::format("Replication Task with identifier {} already exists",
                                       *request.replication_task_identifier));
    }
    record.identifier = *request.replication_task_identifier;
    record.doc["ReplicationTaskIdentifier"] = record.identifier;
  }
  if (request.migration_type) {
    require_migration_type(*request.migration_type);
    record.doc["MigrationType"] = *request.migration_type;
  }
  if (request.table_mappings) {
    validate_table_mappings(*request.table_mappings);
    record.doc["TableMappings"] = *request.table_mappings;
  }
  if (request.replication_task_settings) {
    const auto instance =
        store_.find_by_arn(ResourceKind::kInstance, record.doc.value("ReplicationInstanceArn", ""));
    // Modify merges over what is stored, so earlier changes survive a partial document.
    const auto merged =
        merge_task_settings_change(record.doc.value("ReplicationTaskSettings", "{}"),
                                   *request.replication_task_settings, "ReplicationTaskSettings");
    record.doc["ReplicationTaskSettings"] =
        complete_task_settings(merged, instance ? instance->identifier : "",
                               arn_resource_id(record.arn), /*on_create=*/false);
  }
  if (request.cdc_start_position) record.doc["CdcStartPosition"] = *request.cdc_start_position;
  if (request.cdc_stop_position) record.doc["CdcStopPosition"] = *request.cdc_stop_position;
  if (request.task_data) record.doc["TaskData"] = *request.task_data;
  store_.update(ResourceKind::kTask, record);
  return {{"ReplicationTask", public_task(record, false)}};
}

nlohmann::json DmsService::delete_task(const RequestContext& context, const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationTaskMessage>(body);
  auto record = require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto status = record.doc.value("Status", "");
  if (is_active(status)) {
    throw invalid_state(fmt::format("Replication task {} is {}; stop it before deleting it.",
                                    record.identifier, status));
  }
  // The data plane cleans up after the task's runs (a CDC slot) once our lock is released.
  if (record.internal.value("runs", std::int64_t{0}) > 0) {
    after_unlock([this, run = task_run_of(record)] { executor_.task_deleted(run); });
  }
  store_.remove(ResourceKind::kTask, record.arn);
  record.doc["Status"] = "deleting";
  return {{"ReplicationTask", public_task(record, false)}};
}

nlohmann::json DmsService::describe_table_statistics(const RequestContext& context,
                                                     const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeTableStatisticsMessage>(body);
  validate_filters(request.filters, kTableFilters);
  const auto record = require(context, ResourceKind::kTask, request.replication_task_arn);
  std::vector<nlohmann::json> matched;
  std::vector<std::string> keys;
  const auto tables = store_.table_statistics(record.arn);
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const auto& table = tables[i];
    const bool match = matches_filters(request.filters, kTableFilters, [&](std::string_view name) {
      if (name == "schema-name") return std::vector<std::string>{table.value("SchemaName", "")};
      if (name == "table-name") return std::vector<std::string>{table.value("TableName", "")};
      return std::vector<std::string>{table.value("TableState", "")};
    });
    if (!match) continue;
    keys.push_back(fmt::format("{:08d}", i));  // stored order; zero-padded so it sorts
    matched.push_back(table);
  }
  const auto window = page_window(keys, request.max_records, request.marker, {20, 500, 100});
  nlohmann::json statistics = nlohmann::json::array();
  for (auto i = window.begin; i < window.end; ++i) {
    dms::TableStatistics typed;
    dms::from_json(matched[i], typed);
    nlohmann::json out;
    dms::to_json(out, typed);
    statistics.push_back(out);
  }
  nlohmann::json out = {{"ReplicationTaskArn", record.arn}, {"TableStatistics", statistics}};
  if (window.next_marker) out["Marker"] = *window.next_marker;
  return out;
}

}  // namespace dagster_dms::server
