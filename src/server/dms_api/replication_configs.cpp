#include <fmt/format.h>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/replication_rules.hpp"
#include "server/dms_api/replication_runs.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/run_types.hpp"
#include "server/dms_api/task_settings.hpp"
#include "server/front/api_error.hpp"
#include "server/front/request_members.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::size_t kIdentifierMax = 255;

const FilterSpec kConfigFilters{{"replication-config-arn", "replication-config-id"}, {}};

// Configs and their replications filter alike.
std::vector<std::string> config_filter_values(const Record& config, std::string_view name) {
  return {name == "replication-config-arn" ? config.arn : config.identifier};
}

nlohmann::json public_config(const Record& record) {
  return public_document<dms::ReplicationConfig>(record.doc);
}

// The stored settings: DMS's defaults with the given document merged over them. Serverless logs
// go to their own group, named after the config's resource id.
std::string complete_replication_settings(const std::optional<std::string>& given,
                                          const std::string& resource_id, bool on_create) {
  auto settings = nlohmann::json::parse(complete_task_settings(given, "", resource_id, on_create));
  // As for tasks, the names are set only while logging is on.
  auto& logging = settings["Logging"];
  if (logging.is_object() && logging.value("EnableLogging", false)) {
    logging["CloudWatchLogGroup"] = "dms-serverless-replication-" + resource_id;
    logging["CloudWatchLogStream"] = "dms-serverless-serv-res-id-" + resource_id;
  }
  return settings.dump();
}

nlohmann::json create_config(ControlPlane& plane, const RequestContext& context,
                             const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateReplicationConfigMessage>(body);
  require_valid_identifier("ReplicationConfigIdentifier", request.replication_config_identifier,
                           kIdentifierMax);
  require_migration_type("ReplicationType", request.replication_type);
  validate_compute_config(request.compute_config);
  validate_table_mappings(request.table_mappings);
  if (request.resource_identifier) {
    require_valid_identifier("ResourceIdentifier", *request.resource_identifier, 31);
  }
  const auto source = plane.require(context, ResourceKind::kEndpoint, request.source_endpoint_arn);
  const auto target = plane.require(context, ResourceKind::kEndpoint, request.target_endpoint_arn);
  if (source.doc.value("EndpointType", "") != "SOURCE") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a source endpoint.", source.arn));
  }
  if (target.doc.value("EndpointType", "") != "TARGET") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a target endpoint.", target.arn));
  }
  if (plane.store.find_by_identifier(ResourceKind::kReplicationConfig, context.account,
                                     context.region, request.replication_config_identifier)) {
    throw already_exists(fmt::format("Replication config with identifier {} already exists",
                                     request.replication_config_identifier));
  }
  auto record =
      plane.new_record(context, ResourceKind::kReplicationConfig,
                       request.replication_config_identifier, request.resource_identifier);
  const auto resource_id = arn_resource_id(record.arn);
  nlohmann::json compute;
  dms::to_json(compute, request.compute_config);
  drop_empty_strings(compute);
  const auto now = plane.now_json();
  record.doc = {
      {"ReplicationConfigIdentifier", record.identifier},
      {"ReplicationConfigArn", record.arn},
      {"SourceEndpointArn", source.arn},
      {"TargetEndpointArn", target.arn},
      {"ReplicationType", request.replication_type},
      {"ComputeConfig", compute},
      {"ReplicationSettings",
       complete_replication_settings(request.replication_settings, resource_id, true)},
      {"TableMappings", request.table_mappings},
      {"ReplicationConfigCreateTime", now},
      {"ReplicationConfigUpdateTime", now},
  };
  if (request.supplemental_settings) {
    record.doc["SupplementalSettings"] = *request.supplemental_settings;
  }
  record.internal["runs"] = 0;
  record.internal["run_id"] = 0;
  record.internal["replication"] = {
      {"ReplicationConfigIdentifier", record.identifier},
      {"ReplicationConfigArn", record.arn},
      {"SourceEndpointArn", source.arn},
      {"TargetEndpointArn", target.arn},
      {"ReplicationType", request.replication_type},
      {"ReplicationCreateTime", now},
      {"ReplicationUpdateTime", now},
  };
  set_status(record.internal["replication"], ReplicationStatus::kCreated);
  plane.store.insert(ResourceKind::kReplicationConfig, record);
  plane.put_request_tags(record.arn, request.tags);
  return {{"ReplicationConfig", public_config(record)}};
}

nlohmann::json describe_configs(ControlPlane& plane, const RequestContext& context,
                                const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationConfigsMessage>(body);
  return describe_page(
      plane.store.list(ResourceKind::kReplicationConfig, context.account, context.region),
      DescribeRequest::of(request),
      {kConfigFilters, "No replication configs found matching provided filters"},
      "ReplicationConfigs", config_filter_values, identifier_key, public_config);
}

nlohmann::json modify_config(ControlPlane& plane, const RequestContext& context,
                             const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyReplicationConfigMessage>(body);
  auto record =
      plane.require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  auto& replication = ReplicationRunShape::run_state(record);
  const auto status = status_in<ReplicationStatus>(replication);
  const auto provision = replication.contains("ProvisionData")
                             ? find_status<ProvisionState>(replication["ProvisionData"])
                             : std::nullopt;
  // DMS: only before the first start, or after a failure (status failed, or a failed provision).
  const bool never_started = record.internal.value("runs", std::int64_t{0}) == 0;
  if (!never_started && status != ReplicationStatus::kFailed &&
      provision != ProvisionState::kFailed) {
    throw invalid_state(fmt::format(
        "Replication config {} has been started ({}); it can be modified only before its first "
        "start or after a failure.",
        record.identifier, to_wire(status)));
  }
  if (request.replication_config_identifier &&
      *request.replication_config_identifier != record.identifier) {
    require_valid_identifier("ReplicationConfigIdentifier", *request.replication_config_identifier,
                             kIdentifierMax);
    if (plane.store.find_by_identifier(ResourceKind::kReplicationConfig, context.account,
                                       context.region, *request.replication_config_identifier)) {
      throw already_exists(fmt::format("Replication config with identifier {} already exists",
                                       *request.replication_config_identifier));
    }
    record.identifier = *request.replication_config_identifier;
  }
  if (request.replication_type) {
    require_migration_type("ReplicationType", *request.replication_type);
    record.doc["ReplicationType"] = *request.replication_type;
  }
  if (request.compute_config) {
    validate_compute_config(*request.compute_config);
    nlohmann::json compute;
    dms::to_json(compute, *request.compute_config);
    drop_empty_strings(compute);
    record.doc["ComputeConfig"] = compute;
  }
  if (request.table_mappings) {
    validate_table_mappings(*request.table_mappings);
    record.doc["TableMappings"] = *request.table_mappings;
  }
  const auto resource_id = arn_resource_id(record.arn);
  if (request.replication_settings) {
    // Modify merges over what is stored, so earlier changes survive a partial document.
    const auto merged =
        merge_task_settings_change(record.doc.value("ReplicationSettings", "{}"),
                                   *request.replication_settings, "ReplicationSettings");
    record.doc["ReplicationSettings"] =
        complete_replication_settings(merged, resource_id, /*on_create=*/false);
  }
  if (request.supplemental_settings) {
    record.doc["SupplementalSettings"] = *request.supplemental_settings;
  }
  const auto check_endpoint = [&](const std::string& arn, const char* type) {
    const auto endpoint = plane.require(context, ResourceKind::kEndpoint, arn);
    if (endpoint.doc.value("EndpointType", "") != type) {
      throw invalid_parameter(
          fmt::format("Endpoint {} is not a {} endpoint.", arn, to_lower(type)));
    }
    return endpoint.arn;
  };
  if (request.source_endpoint_arn) {
    record.doc["SourceEndpointArn"] = check_endpoint(*request.source_endpoint_arn, "SOURCE");
  }
  if (request.target_endpoint_arn) {
    record.doc["TargetEndpointArn"] = check_endpoint(*request.target_endpoint_arn, "TARGET");
  }
  const auto now = plane.now_json();
  record.doc["ReplicationConfigIdentifier"] = record.identifier;
  record.doc["ReplicationConfigUpdateTime"] = now;
  // The replication shows what its config says.
  for (const char* name : {"ReplicationConfigIdentifier", "SourceEndpointArn", "TargetEndpointArn",
                           "ReplicationType"}) {
    replication[name] = record.doc[name];
  }
  replication["ReplicationUpdateTime"] = now;
  plane.store.update(ResourceKind::kReplicationConfig, record);
  return {{"ReplicationConfig", public_config(record)}};
}

nlohmann::json delete_config(ControlPlane& plane, const RequestContext& context,
                             const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationConfigMessage>(body);
  auto record =
      plane.require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  RunLifecycle<ReplicationRunShape>(plane).remove(record, "stop it before deleting its config");
  return {{"ReplicationConfig", public_config(record)}};
}

nlohmann::json describe_replications(ControlPlane& plane, const RequestContext& context,
                                     const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationsMessage>(body);
  return describe_page(
      plane.store.list(ResourceKind::kReplicationConfig, context.account, context.region),
      DescribeRequest::of(request),
      {kConfigFilters, "No replications found matching provided filters"}, "Replications",
      config_filter_values, identifier_key, public_replication);
}

nlohmann::json describe_replication_table_statistics(ControlPlane& plane,
                                                     const RequestContext& context,
                                                     const nlohmann::json& body) {
  // Not in the generated request models: read by hand, with the same checks.
  if (!body.contains("ReplicationConfigArn") || !body["ReplicationConfigArn"].is_string()) {
    throw invalid_parameter("ReplicationConfigArn is required.");
  }
  std::optional<std::vector<dms::Filter>> filters;
  std::optional<std::int64_t> max_records;
  std::optional<std::string> marker;
  try {
    if (body.contains("Filters")) {
      filters.emplace();
      for (const auto& item : body.at("Filters")) {
        dms::Filter filter;
        dms::from_json(item, filter);
        filters->push_back(std::move(filter));
      }
    }
    if (body.contains("MaxRecords")) max_records = body.at("MaxRecords").get<std::int64_t>();
    if (body.contains("Marker")) marker = body.at("Marker").get<std::string>();
  } catch (const std::exception& error) {
    throw invalid_parameter(fmt::format("Invalid request: {}", error.what()));
  }
  validate_filters(filters, kTableStatisticsFilters);
  const auto record = plane.require(context, ResourceKind::kReplicationConfig,
                                    body["ReplicationConfigArn"].get<std::string>());
  if (record.internal.value("runs", std::int64_t{0}) == 0) {
    throw invalid_state(fmt::format(
        "Replication {} has not been started; it has no table statistics yet.", record.identifier));
  }
  auto out =
      describe_table_statistics_page(plane.store.table_statistics(record.arn),
                                     {filters, max_records, marker}, "ReplicationTableStatistics");
  out["ReplicationConfigArn"] = record.arn;
  return out;
}

}  // namespace

void register_replication_configs(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"CreateReplicationConfig", create_config},
                  {"DescribeReplicationConfigs", describe_configs},
                  {"ModifyReplicationConfig", modify_config},
                  {"DeleteReplicationConfig", delete_config},
                  {"DescribeReplications", describe_replications},
                  {"DescribeReplicationTableStatistics", describe_replication_table_statistics}});
}

}  // namespace dagster_dms::server
