// CreateReplicationTask, DescribeReplicationTasks, ModifyReplicationTask, DeleteReplicationTask,
// DescribeTableStatistics.
#include <fmt/format.h>

#include <set>

#include "server/dms_api/cdc_position_rules.hpp"
#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/events.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/run_types.hpp"
#include "server/dms_api/task_runs.hpp"
#include "server/dms_api/task_settings.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::int64_t kTaskQuota = 600;
constexpr std::size_t kTasksPerInstance = 200;
constexpr std::size_t kEndpointsPerInstance = 100;
constexpr std::size_t kIdentifierMax = 255;

const FilterSpec kTaskFilters{{"replication-task-arn", "replication-task-id", "migration-type",
                               "endpoint-arn", "replication-instance-arn"},
                              {}};

nlohmann::json public_task(const Record& record, bool without_settings) {
  auto out = public_document<dms::ReplicationTask>(record.doc);
  if (without_settings) out.erase("ReplicationTaskSettings");
  return out;
}

nlohmann::json create_task(ControlPlane& plane, const RequestContext& context,
                           const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateReplicationTaskMessage>(body);
  require_valid_identifier("ReplicationTaskIdentifier", request.replication_task_identifier,
                           kIdentifierMax);
  require_migration_type("MigrationType", request.migration_type);
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  if (request.resource_identifier) {
    require_valid_identifier("ResourceIdentifier", *request.resource_identifier, 31);
  }
  validate_table_mappings(request.table_mappings);
  const auto source = plane.require(context, ResourceKind::kEndpoint, request.source_endpoint_arn);
  const auto target = plane.require(context, ResourceKind::kEndpoint, request.target_endpoint_arn);
  const auto instance =
      plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  if (source.doc.value("EndpointType", "") != "SOURCE") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a source endpoint.", source.arn));
  }
  require_valid_cdc_positions(request.cdc_start_time.has_value(), request.cdc_start_position,
                              request.cdc_stop_position, source.doc.value("EngineName", ""));
  if (target.doc.value("EndpointType", "") != "TARGET") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a target endpoint.", target.arn));
  }
  if (status_in<InstanceStatus>(instance.doc) != InstanceStatus::kAvailable) {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", instance.identifier));
  }
  if (plane.store.find_by_identifier(ResourceKind::kTask, context.account, context.region,
                                     request.replication_task_identifier)) {
    throw already_exists(fmt::format("Replication Task with identifier {} already exists",
                                     request.replication_task_identifier));
  }
  const auto tasks = plane.store.list(ResourceKind::kTask, context.account, context.region);
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

  auto record = plane.new_record(context, ResourceKind::kTask, request.replication_task_identifier,
                                 request.resource_identifier);
  const auto resource_id = arn_resource_id(record.arn);
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
      {"ReplicationTaskCreationDate", plane.now_json()},
      {"ReplicationTaskArn", record.arn},
  };
  check_validation_settings(record.doc["ReplicationTaskSettings"].get<std::string>(),
                            request.migration_type);
  set_status(record.doc, TaskStatus::kCreating);
  if (request.cdc_start_position) record.doc["CdcStartPosition"] = *request.cdc_start_position;
  if (request.cdc_stop_position) record.doc["CdcStopPosition"] = *request.cdc_stop_position;
  if (request.task_data) record.doc["TaskData"] = *request.task_data;
  record.internal["ready_at_ms"] = plane.now_millis() + plane.options.task_create_delay.count();
  record.internal["runs"] = 0;
  record.internal["run_id"] = 0;
  plane.store.insert(ResourceKind::kTask, record);
  record_event(plane, record, DmsEvent::kTaskCreated);
  plane.put_request_tags(record.arn, request.tags);
  return {{"ReplicationTask", public_task(record, false)}};
}

nlohmann::json describe_tasks(ControlPlane& plane, const RequestContext& context,
                              const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationTasksMessage>(body);
  const bool without_settings = request.without_settings.value_or(false);
  return describe_page(
      plane.list_refreshed(context, ResourceKind::kTask), DescribeRequest::of(request),
      {kTaskFilters, "No Tasks found matching provided filters"}, "ReplicationTasks",
      [](const Record& record, std::string_view name) {
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
      },
      identifier_key, [&](const Record& record) { return public_task(record, without_settings); });
}

nlohmann::json modify_task(ControlPlane& plane, const RequestContext& context,
                           const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyReplicationTaskMessage>(body);
  auto record = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  const auto status = status_in<TaskStatus>(record.doc);
  if (status != TaskStatus::kReady && status != TaskStatus::kStopped &&
      status != TaskStatus::kFailed) {
    throw invalid_state(fmt::format(
        "Replication task {} is {}; it can be modified only when ready, stopped or failed.",
        record.identifier, to_wire(status)));
  }
  if (request.cdc_start_time && request.cdc_start_position) {
    throw invalid_combination("CdcStartTime and CdcStartPosition are mutually exclusive.");
  }
  require_valid_cdc_positions(request.cdc_start_time.has_value(), request.cdc_start_position,
                              request.cdc_stop_position, source_engine_of(plane.store, record));
  if (request.replication_task_identifier &&
      *request.replication_task_identifier != record.identifier) {
    require_valid_identifier("ReplicationTaskIdentifier", *request.replication_task_identifier,
                             kIdentifierMax);
    if (plane.store.find_by_identifier(ResourceKind::kTask, context.account, context.region,
                                       *request.replication_task_identifier)) {
      throw already_exists(fmt::format("Replication Task with identifier {} already exists",
                                       *request.replication_task_identifier));
    }
    record.identifier = *request.replication_task_identifier;
    record.doc["ReplicationTaskIdentifier"] = record.identifier;
  }
  if (request.migration_type) {
    require_migration_type("MigrationType", *request.migration_type);
    record.doc["MigrationType"] = *request.migration_type;
  }
  if (request.table_mappings) {
    validate_table_mappings(*request.table_mappings);
    record.doc["TableMappings"] = *request.table_mappings;
  }
  if (request.replication_task_settings) {
    const auto instance = plane.store.find_by_arn(ResourceKind::kInstance,
                                                  record.doc.value("ReplicationInstanceArn", ""));
    // Modify merges over what is stored, so earlier changes survive a partial document.
    const auto merged =
        merge_task_settings_change(record.doc.value("ReplicationTaskSettings", "{}"),
                                   *request.replication_task_settings, "ReplicationTaskSettings");
    const auto stored = record.doc.value("ReplicationTaskSettings", "");
    record.doc["ReplicationTaskSettings"] =
        complete_task_settings(merged, instance ? instance->identifier : "",
                               arn_resource_id(record.arn), /*on_create=*/false);
    check_validation_settings(record.doc["ReplicationTaskSettings"].get<std::string>(),
                              record.doc.value("MigrationType", "full-load"), stored);
  }
  if (request.cdc_start_position) record.doc["CdcStartPosition"] = *request.cdc_start_position;
  if (request.cdc_stop_position) record.doc["CdcStopPosition"] = *request.cdc_stop_position;
  if (request.task_data) record.doc["TaskData"] = *request.task_data;
  plane.store.update(ResourceKind::kTask, record);
  record_event(plane, record, DmsEvent::kTaskModified);
  return {{"ReplicationTask", public_task(record, false)}};
}

nlohmann::json delete_task(ControlPlane& plane, const RequestContext& context,
                           const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationTaskMessage>(body);
  auto record = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  RunLifecycle<TaskRunShape>(plane).remove(record, "stop it before deleting it");
  record_event(plane, record, DmsEvent::kTaskDeleted);
  set_status(record.doc, TaskStatus::kDeleting);
  return {{"ReplicationTask", public_task(record, false)}};
}

nlohmann::json describe_table_statistics(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeTableStatisticsMessage>(body);
  validate_filters(request.filters, kTableStatisticsFilters);
  const auto record = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  auto out = describe_table_statistics_page(plane.store.table_statistics(record.arn),
                                            DescribeRequest::of(request), "TableStatistics");
  out["ReplicationTaskArn"] = record.arn;
  return out;
}

}  // namespace

void register_tasks(ControlPlane& plane, OperationTable& table) {
  // A new task is usable once task_create_delay has passed.
  plane.on_due(ResourceKind::kTask, [](Record& record) {
    if (status_in<TaskStatus>(record.doc) != TaskStatus::kCreating) return false;
    set_status(record.doc, TaskStatus::kReady);
    return true;
  });
  add_operations(plane, table,
                 {{"CreateReplicationTask", create_task},
                  {"DescribeReplicationTasks", describe_tasks},
                  {"ModifyReplicationTask", modify_task},
                  {"DeleteReplicationTask", delete_task},
                  {"DescribeTableStatistics", describe_table_statistics}});
}

}  // namespace dagster_dms::server
