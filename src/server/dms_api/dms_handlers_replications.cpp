// DMS Serverless: CreateReplicationConfig, DescribeReplicationConfigs, ModifyReplicationConfig,
// DeleteReplicationConfig, DescribeReplications, DescribeReplicationTableStatistics.
//
// A replication config is stored with its one replication (internal["replication"], the
// Replication object's public fields): DescribeReplications lists it from creation on, in status
// `created`, as the service does.
#include <fmt/format.h>

#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/filters.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/replication_rules.hpp"
#include "server/dms_api/task_settings.hpp"
#include "server/front/api_error.hpp"
#include "server/front/pagination.hpp"
#include "server/front/request_members.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::size_t kIdentifierMax = 255;

const FilterSpec kConfigFilters{{"replication-config-arn", "replication-config-id"}, {}};
const FilterSpec kTableFilters{{"schema-name", "table-name", "table-state"}, {}};

void require_replication_type(const std::string& type) {
  if (type != "full-load" && type != "cdc" && type != "full-load-and-cdc") {
    throw invalid_parameter(fmt::format(
        "Invalid value {} for ReplicationType. Valid values: full-load, cdc, full-load-and-cdc.",
        type));
  }
}

nlohmann::json public_config(const Record& record) {
  dms::ReplicationConfig config;
  dms::from_json(record.doc, config);
  nlohmann::json out;
  dms::to_json(out, config);
  return out;
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

bool is_active(const std::string& status) {
  return status == "starting" || status == "running" || status == "stopping";
}

}  // namespace

nlohmann::json public_replication(const Record& record) {
  dms::Replication replication;
  dms::from_json(record.internal.value("replication", nlohmann::json::object()), replication);
  nlohmann::json out;
  dms::to_json(out, replication);
  return out;
}

nlohmann::json DmsService::create_replication_config(const RequestContext& context,
                                                     const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateReplicationConfigMessage>(body);
  require_valid_identifier("ReplicationConfigIdentifier", request.replication_config_identifier,
                           kIdentifierMax);
  require_replication_type(request.replication_type);
  validate_compute_config(request.compute_config);
  validate_table_mappings(request.table_mappings);
  if (request.resource_identifier) {
    require_valid_identifier("ResourceIdentifier", *request.resource_identifier, 31);
  }
  const auto source = require(context, ResourceKind::kEndpoint, request.source_endpoint_arn);
  const auto target = require(context, ResourceKind::kEndpoint, request.target_endpoint_arn);
  if (source.doc.value("EndpointType", "") != "SOURCE") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a source endpoint.", source.arn));
  }
  if (target.doc.value("EndpointType", "") != "TARGET") {
    throw invalid_parameter(fmt::format("Endpoint {} is not a target endpoint.", target.arn));
  }
  if (store_.find_by_identifier(ResourceKind::kReplicationConfig, context.account, context.region,
                                request.replication_config_identifier)) {
    throw already_exists(fmt::format("Replication config with identifier {} already exists",
                                     request.replication_config_identifier));
  }
  Record record;
  record.identifier = request.replication_config_identifier;
  record.account = context.account;
  record.region = context.region;
  const auto resource_id = request.resource_identifier.value_or(random_resource_id());
  record.arn =
      make_arn(context.region, context.account, ResourceKind::kReplicationConfig, resource_id);
  if (store_.find_by_arn(ResourceKind::kReplicationConfig, record.arn)) {
    throw already_exists(fmt::format("ResourceIdentifier {} is already in use", resource_id));
  }
  nlohmann::json compute;
  dms::to_json(compute, request.compute_config);
  drop_empty_strings(compute);
  const auto now = now_json();
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
      {"Status", "created"},
      {"ReplicationCreateTime", now},
      {"ReplicationUpdateTime", now},
  };
  store_.insert(ResourceKind::kReplicationConfig, record);
  put_request_tags(record.arn, request.tags);
  return {{"ReplicationConfig", public_config(record)}};
}

nlohmann::json DmsService::describe_replication_configs(const RequestContext& context,
                                                        const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationConfigsMessage>(body);
  validate_filters(request.filters, kConfigFilters);
  std::vector<Record> matched;
  std::vector<std::string> keys;
  for (auto& record :
       store_.list(ResourceKind::kReplicationConfig, context.account, context.region)) {
    const bool match = matches_filters(request.filters, kConfigFilters, [&](std::string_view name) {
      return std::vector<std::string>{name == "replication-config-arn" ? record.arn
                                                                       : record.identifier};
    });
    if (!match) continue;
    keys.push_back(record.identifier);
    matched.push_back(std::move(record));
  }
  if (matched.empty() && has_filters(request.filters)) {
    throw not_found("No replication configs found matching provided filters");
  }
  const auto window = page_window(keys, request.max_records, request.marker, {});
  nlohmann::json configs = nlohmann::json::array();
  for (auto i = window.begin; i < window.end; ++i) configs.push_back(public_config(matched[i]));
  nlohmann::json out = {{"ReplicationConfigs", configs}};
  if (window.next_marker) out["Marker"] = *window.next_marker;
  return out;
}

nlohmann::json DmsService::modify_replication_config(const RequestContext& context,
                                                     const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyReplicationConfigMessage>(body);
  auto record = require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  auto& replication = record.internal["replication"];
  const auto status = replication.value("Status", "");
  const auto provision = replication.contains("ProvisionData")
                             ? replication["ProvisionData"].value("ProvisionState", "")
                             : std::string();
  // DMS: only before the first start, or after a failure (status failed, or a failed provision).
  const bool never_started = record.internal.value("runs", std::int64_t{0}) == 0;
  if (!never_started && status != "failed" && provision != "failed-provision") {
    throw invalid_state(fmt::format(
        "Replication config {} has been started ({}); it can be modified only before its first "
        "start or after a failure.",
        record.identifier, status));
  }
  if (request.replication_config_identifier &&
      *request.replication_config_identifier != record.identifier) {
    require_valid_identifier("ReplicationConfigIdentifier", *request.replication_config_identifier,
                             kIdentifierMax);
    if (store_.find_by_identifier(ResourceKind::kReplicationConfig, context.account, context.region,
                                  *request.replication_config_identifier)) {
      throw already_exists(fmt::format("Replication config with identifier {} already exists",
                                       *request.replication_config_identifier));
    }
    record.identifier = *request.replication_config_identifier;
  }
  if (request.replication_type) {
    require_replication_type(*request.replication_type);
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
    const auto endpoint = require(context, ResourceKind::kEndpoint, arn);
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
  const auto now = now_json();
  record.doc["ReplicationConfigIdentifier"] = record.identifier;
  record.doc["ReplicationConfigUpdateTime"] = now;
  // The replication shows what its config says.
  for (const char* name : {"ReplicationConfigIdentifier", "SourceEndpointArn", "TargetEndpointArn",
                           "ReplicationType"}) {
    replication[name] = record.doc[name];
  }
  replication["ReplicationUpdateTime"] = now;
  store_.update(ResourceKind::kReplicationConfig, record);
  return {{"ReplicationConfig", public_config(record)}};
}

nlohmann::json DmsService::delete_replication_config(const RequestContext& context,
                                                     const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationConfigMessage>(body);
  auto record = require(context, ResourceKind::kReplicationConfig, request.replication_config_arn);
  const auto status = record.internal["replication"].value("Status", "");
  if (is_active(status)) {
    throw invalid_state(fmt::format("Replication {} is {}; stop it before deleting its config.",
                                    record.identifier, status));
  }
  // As for a task: the data plane drops what the config's runs left on the source (a CDC slot
  // and its publications, which would otherwise hold WAL forever) once our lock is released.
  if (record.internal.value("runs", std::int64_t{0}) > 0) {
    after_unlock([this, run = replication_run_of(record)] { executor_.task_deleted(run); });
  }
  store_.remove(ResourceKind::kReplicationConfig, record.arn);
  return {{"ReplicationConfig", public_config(record)}};
}

nlohmann::json DmsService::describe_replications(const RequestContext& context,
                                                 const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationsMessage>(body);
  validate_filters(request.filters, kConfigFilters);
  std::vector<Record> matched;
  std::vector<std::string> keys;
  for (auto& record :
       store_.list(ResourceKind::kReplicationConfig, context.account, context.region)) {
    const bool match = matches_filters(request.filters, kConfigFilters, [&](std::string_view name) {
      return std::vector<std::string>{name == "replication-config-arn" ? record.arn
                                                                       : record.identifier};
    });
    if (!match) continue;
    keys.push_back(record.identifier);
    matched.push_back(std::move(record));
  }
  if (matched.empty() && has_filters(request.filters)) {
    throw not_found("No replications found matching provided filters");
  }
  const auto window = page_window(keys, request.max_records, request.marker, {});
  nlohmann::json replications = nlohmann::json::array();
  for (auto i = window.begin; i < window.end; ++i) {
    replications.push_back(public_replication(matched[i]));
  }
  nlohmann::json out = {{"Replications", replications}};
  if (window.next_marker) out["Marker"] = *window.next_marker;
  return out;
}

nlohmann::json DmsService::describe_replication_table_statistics(const RequestContext& context,
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
  validate_filters(filters, kTableFilters);
  const auto record = require(context, ResourceKind::kReplicationConfig,
                              body["ReplicationConfigArn"].get<std::string>());
  if (record.internal.value("runs", std::int64_t{0}) == 0) {
    throw invalid_state(fmt::format(
        "Replication {} has not been started; it has no table statistics yet.", record.identifier));
  }
  std::vector<nlohmann::json> matched;
  std::vector<std::string> keys;
  const auto tables = store_.table_statistics(record.arn);
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const auto& table = tables[i];
    const bool match = matches_filters(filters, kTableFilters, [&](std::string_view name) {
      if (name == "schema-name") return std::vector<std::string>{table.value("SchemaName", "")};
      if (name == "table-name") return std::vector<std::string>{table.value("TableName", "")};
      return std::vector<std::string>{table.value("TableState", "")};
    });
    if (!match) continue;
    keys.push_back(fmt::format("{:08d}", i));
    matched.push_back(table);
  }
  const auto window = page_window(keys, max_records, marker, {20, 500, 100});
  nlohmann::json statistics = nlohmann::json::array();
  for (auto i = window.begin; i < window.end; ++i) {
    dms::TableStatistics typed;
    dms::from_json(matched[i], typed);
    nlohmann::json out;
    dms::to_json(out, typed);
    statistics.push_back(out);
  }
  nlohmann::json out = {{"ReplicationConfigArn", record.arn},
                        {"ReplicationTableStatistics", statistics}};
  if (window.next_marker) out["Marker"] = *window.next_marker;
  return out;
}

}  // namespace dagster_dms::server
