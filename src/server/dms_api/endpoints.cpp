#include <fmt/format.h>

#include "replicate/s3_path.hpp"
#include "server/dms_api/certificates.hpp"
#include "server/dms_api/connections.hpp"
#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/endpoint_secrets.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/service_catalog.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::int64_t kEndpointQuota = 1000;
constexpr std::size_t kIdentifierMax = 255;

const FilterSpec kEndpointFilters{{"endpoint-arn", "endpoint-type", "endpoint-id", "engine-name"},
                                  {"endpoint-type"}};

std::string display_name(const std::string& engine) {
  return std::string(require_supported_engine(engine).display_name);
}

std::string endpoint_type(const std::string& given) {
  const auto lower = to_lower(given);
  if (lower != "source" && lower != "target") {
    throw invalid_parameter(
        fmt::format("Invalid value {} for EndpointType. Valid values: source, target.", given));
  }
  // The service answers the type upper-cased.
  return lower == "source" ? "SOURCE" : "TARGET";
}

// Members of a create/modify request that become part of the stored endpoint as they are.
constexpr const char* kCopiedMembers[] = {"Username",
                                          "ServerName",
                                          "Port",
                                          "DatabaseName",
                                          "ExtraConnectionAttributes",
                                          "KmsKeyId",
                                          "CertificateArn",
                                          "SslMode",
                                          "ServiceAccessRoleArn",
                                          "ExternalTableDefinition",
                                          "PostgreSQLSettings",
                                          "MySQLSettings",
                                          "S3Settings"};

// Mirrors the connection members into the engine's settings object (PostgreSQLSettings,
// MySQLSettings) as DMS does.
void mirror_connection_settings(nlohmann::json& doc) {
  const auto engine = doc.value("EngineName", "");
  const char* name = nullptr;
  if (engine == "postgres" || engine == "aurora-postgresql") name = "PostgreSQLSettings";
  if (is_mysql_family(engine)) name = "MySQLSettings";
  if (name == nullptr) return;
  auto& settings = doc[name];
  if (!settings.is_object()) settings = nlohmann::json::object();
  for (const char* name : {"DatabaseName", "Port", "ServerName", "Username"}) {
    if (doc.contains(name)) settings[name] = doc[name];
  }
}

nlohmann::json public_endpoint(const Record& record) {
  return public_document<dms::Endpoint>(record.doc);
}

void apply_members(const nlohmann::json& body, Record& record) {
  for (const char* name : kCopiedMembers) {
    if (!body.contains(name) || body[name].is_null()) continue;
    if (body[name].is_object() && record.doc.contains(name) && record.doc[name].is_object()) {
      record.doc[name].update(body[name]);
    } else {
      record.doc[name] = body[name];
    }
  }
  if (body.contains("Password") && body["Password"].is_string()) {
    record.internal["Password"] = body["Password"];
  }
  move_secrets(record.doc, record.internal);
  mirror_connection_settings(record.doc);
}

// MySQLSettings members dms-local uses, checked as DMS checks them.
void check_mysql_settings(const nlohmann::json& doc) {
  if (!is_mysql_family(doc.value("EngineName", ""))) return;
  const auto& settings = doc.contains("MySQLSettings") && doc["MySQLSettings"].is_object()
                             ? doc["MySQLSettings"]
                             : nlohmann::json::object();
  const auto integer_at_least = [&](const char* name, std::int64_t minimum, std::int64_t maximum) {
    if (!settings.contains(name) || settings[name].is_null()) return;
    if (!settings[name].is_number_integer() || settings[name].get<std::int64_t>() < minimum ||
        settings[name].get<std::int64_t>() > maximum) {
      throw invalid_parameter(
          fmt::format("Invalid value {} for MySQLSettings.{}: expected an integer from {} to {}.",
                      settings[name].dump(), name, minimum, maximum));
    }
  };
  integer_at_least("Port", 1, 65535);
  integer_at_least("EventsPollInterval", 1, 86400);
  integer_at_least("ParallelLoadThreads", 1, 16);
  if (settings.contains("ServerTimezone") &&
      (!settings["ServerTimezone"].is_string() ||
       settings["ServerTimezone"].get<std::string>().empty())) {
    throw invalid_parameter(
        "Invalid value for MySQLSettings.ServerTimezone: expected a time zone name such as "
        "US/Pacific or UTC.");
  }
}

void check_endpoint_settings(const nlohmann::json& doc) {
  check_mysql_settings(doc);
  if (doc.value("EngineName", "") == "s3") {
    const auto& s3 = doc.contains("S3Settings") ? doc["S3Settings"] : nlohmann::json::object();
    if (!s3.is_object() || !s3.contains("BucketName") || !s3["BucketName"].is_string() ||
        s3["BucketName"].get<std::string>().empty()) {
      throw invalid_parameter("S3Settings.BucketName is required for an s3 endpoint.");
    }
    std::string folder;
    if (s3.contains("BucketFolder") && !s3["BucketFolder"].is_null()) {
      if (!s3["BucketFolder"].is_string()) {
        throw invalid_parameter("S3Settings.BucketFolder must be a string.");
      }
      folder = s3["BucketFolder"].get<std::string>();
    }
    // S3's bucket naming rules and plain folder segments: both become paths under --s3-root.
    try {
      replicate::check_s3_location(s3["BucketName"].get<std::string>(), folder);
    } catch (const replicate::S3PathError& error) {
      throw invalid_parameter(error.what());
    }
  }
  const auto mode = doc.value("SslMode", "none");
  if (mode != "none" && mode != "require" && mode != "verify-ca" && mode != "verify-full") {
    throw invalid_parameter(fmt::format(
        "Invalid value {} for SslMode. Valid values: none, require, verify-ca, verify-full.",
        mode));
  }
}

nlohmann::json create_endpoint(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateEndpointMessage>(body);
  require_valid_identifier("EndpointIdentifier", request.endpoint_identifier, kIdentifierMax);
  require_supported_engine(request.engine_name);
  if (request.resource_identifier) {
    require_valid_identifier("ResourceIdentifier", *request.resource_identifier, 31);
  }
  if (plane.store.find_by_identifier(ResourceKind::kEndpoint, context.account, context.region,
                                     request.endpoint_identifier)) {
    throw already_exists(
        fmt::format("Endpoint with identifier {} already exists", request.endpoint_identifier));
  }
  if (plane.store.count(ResourceKind::kEndpoint, context.account, context.region) >=
      kEndpointQuota) {
    throw quota_exceeded(fmt::format(
        "Account quota Endpoints ({}) exceeded; delete endpoints first.", kEndpointQuota));
  }
  auto record = plane.new_record(context, ResourceKind::kEndpoint, request.endpoint_identifier,
                                 request.resource_identifier);
  record.doc = {{"EndpointIdentifier", request.endpoint_identifier},
                {"EndpointType", endpoint_type(request.endpoint_type)},
                {"EngineName", request.engine_name},
                {"EngineDisplayName", display_name(request.engine_name)},
                {"EndpointArn", record.arn},
                {"SslMode", "none"}};
  set_status(record.doc, EndpointStatus::kActive);
  apply_members(body, record);
  check_endpoint_settings(record.doc);
  require_endpoint_certificate(plane.store, context, record.doc);
  plane.store.insert(ResourceKind::kEndpoint, record);
  plane.put_request_tags(record.arn, request.tags);
  return {{"Endpoint", public_endpoint(record)}};
}

nlohmann::json describe_endpoints(ControlPlane& plane, const RequestContext& context,
                                  const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeEndpointsMessage>(body);
  return describe_page(
      plane.list_refreshed(context, ResourceKind::kEndpoint), DescribeRequest::of(request),
      {kEndpointFilters, "No Endpoints found matching provided filters"}, "Endpoints",
      [](const Record& record, std::string_view name) {
        if (name == "endpoint-arn") return std::vector<std::string>{record.arn};
        if (name == "endpoint-type") {
          return std::vector<std::string>{record.doc.value("EndpointType", "")};
        }
        if (name == "endpoint-id") return std::vector<std::string>{record.identifier};
        return std::vector<std::string>{record.doc.value("EngineName", "")};
      },
      identifier_key, public_endpoint);
}

nlohmann::json modify_endpoint(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyEndpointMessage>(body);
  auto record = plane.require(context, ResourceKind::kEndpoint, request.endpoint_arn);
  if (request.endpoint_identifier && *request.endpoint_identifier != record.identifier) {
    require_valid_identifier("EndpointIdentifier", *request.endpoint_identifier, kIdentifierMax);
    if (plane.store.find_by_identifier(ResourceKind::kEndpoint, context.account, context.region,
                                       *request.endpoint_identifier)) {
      throw already_exists(
          fmt::format("Endpoint with identifier {} already exists", *request.endpoint_identifier));
    }
    record.identifier = *request.endpoint_identifier;
    record.doc["EndpointIdentifier"] = record.identifier;
  }
  if (request.engine_name) {
    require_supported_engine(*request.engine_name);
    record.doc["EngineName"] = *request.engine_name;
    record.doc["EngineDisplayName"] = display_name(*request.engine_name);
  }
  if (request.endpoint_type) record.doc["EndpointType"] = endpoint_type(*request.endpoint_type);
  if (request.exact_settings.value_or(false)) {
    // ExactSettings: the given settings objects replace the stored ones instead of merging.
    for (const char* name : {"PostgreSQLSettings", "MySQLSettings", "S3Settings"}) {
      if (body.contains(name)) record.doc.erase(name);
    }
  }
  apply_members(body, record);
  check_endpoint_settings(record.doc);
  require_endpoint_certificate(plane.store, context, record.doc);
  plane.store.update(ResourceKind::kEndpoint, record);
  return {{"Endpoint", public_endpoint(record)}};
}

nlohmann::json delete_endpoint(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteEndpointMessage>(body);
  auto record = plane.require(context, ResourceKind::kEndpoint, request.endpoint_arn);
  for (const auto& task : plane.store.list(ResourceKind::kTask, context.account, context.region)) {
    if (task.doc.value("SourceEndpointArn", "") == record.arn ||
        task.doc.value("TargetEndpointArn", "") == record.arn) {
      throw invalid_state(
          fmt::format("Endpoint {} is used by replication task {}; delete the task first.",
                      record.arn, task.identifier));
    }
  }
  for (const auto& config :
       plane.store.list(ResourceKind::kReplicationConfig, context.account, context.region)) {
    if (config.doc.value("SourceEndpointArn", "") == record.arn ||
        config.doc.value("TargetEndpointArn", "") == record.arn) {
      throw invalid_state(
          fmt::format("Endpoint {} is used by replication config {}; delete the config first.",
                      record.arn, config.identifier));
    }
  }
  remove_connections_of(plane.store, context, record.arn);
  plane.store.remove(ResourceKind::kEndpoint, record.arn);
  set_status(record.doc, EndpointStatus::kDeleting);
  return {{"Endpoint", public_endpoint(record)}};
}

}  // namespace

void register_endpoints(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"CreateEndpoint", create_endpoint},
                  {"DescribeEndpoints", describe_endpoints},
                  {"ModifyEndpoint", modify_endpoint},
                  {"DeleteEndpoint", delete_endpoint}});
}

}  // namespace dagster_dms::server
