#include "server/dms_api/schemas.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/catalog.hpp"
#include "replicate/pg_connection.hpp"
#include "server/dms_api/certificates.hpp"
#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/endpoint_secrets.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/execution/task_plan.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// Where an endpoint's internal document keeps the last refresh (a RefreshSchemasStatus document
// plus its `refresh_id`) and the schema names it read.
constexpr const char* kRefreshMember = "SchemaRefresh";
constexpr const char* kSchemasMember = "Schemas";

// What one refresh reads, away from the control plane's lock.
struct RefreshWork {
  dms::Endpoint endpoint;
  std::optional<std::string> password;
  std::optional<std::string> certificate_pem;
};

// The schema names of the endpoint's database, or why they cannot be read.
std::variant<std::vector<std::string>, std::string> read_endpoint_schemas(const RefreshWork& work) {
  const auto engine = work.endpoint.engine_name.value_or("");
  if (engine != "postgres" && engine != "aurora-postgresql") {
    return fmt::format(
        "dms-local reads the schemas of postgres and aurora-postgresql endpoints only, not {}.",
        engine);
  }
  try {
    auto connection = replicate::PgConnection::open(
        pg_endpoint(work.endpoint, work.password, work.certificate_pem),
        "dms-local-refresh-schemas");
    return replicate::read_schemas(connection);
  } catch (const std::exception& error) {
    return std::string(error.what());
  }
}

void finish_refresh(ControlPlane& plane, const std::string& endpoint_arn, std::int64_t refresh_id,
                    const std::variant<std::vector<std::string>, std::string>& outcome) {
  const std::lock_guard lock(plane.mutex);
  if (plane.shutting_down) return;
  plane.store.transaction([&] {
    auto record = plane.store.find_by_arn(ResourceKind::kEndpoint, endpoint_arn);
    // Deleted meanwhile, or refreshed again: nothing to record.
    if (!record || !record->internal.contains(kRefreshMember) ||
        record->internal[kRefreshMember].value("refresh_id", std::int64_t{0}) != refresh_id) {
      return;
    }
    auto& status = record->internal[kRefreshMember];
    status["LastRefreshDate"] = plane.now_json();
    if (const auto* schemas = std::get_if<std::vector<std::string>>(&outcome)) {
      status["Status"] = "successful";
      status.erase("LastFailureMessage");
      record->internal[kSchemasMember] = *schemas;
    } else {
      status["Status"] = "failed";
      status["LastFailureMessage"] = std::get<std::string>(outcome);
    }
    plane.store.update(ResourceKind::kEndpoint, *record);
  });
}

nlohmann::json public_status(const Record& endpoint) {
  auto status = endpoint.internal[kRefreshMember];
  status["EndpointArn"] = endpoint.arn;
  return public_document<dms::RefreshSchemasStatus>(status);
}

nlohmann::json refresh_schemas(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::RefreshSchemasMessage>(body);
  auto endpoint = plane.require(context, ResourceKind::kEndpoint, request.endpoint_arn);
  const auto instance =
      plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  if (status_in<InstanceStatus>(instance.doc) != InstanceStatus::kAvailable) {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", instance.identifier));
  }
  const auto previous = endpoint.internal.value(kRefreshMember, nlohmann::json::object());
  if (previous.value("Status", "") == "refreshing") {
    throw invalid_state(fmt::format(
        "The schemas of endpoint {} are being refreshed; wait for DescribeRefreshSchemasStatus "
        "to answer successful or failed.",
        endpoint.identifier));
  }
  // Each refresh has an id, so a slow earlier one cannot overwrite a newer one's result.
  const auto refresh_id = previous.value("refresh_id", std::int64_t{0}) + 1;
  nlohmann::json status = {{"ReplicationInstanceArn", instance.arn},
                           {"Status", "refreshing"},
                           {"refresh_id", refresh_id}};
  if (previous.contains("LastRefreshDate")) status["LastRefreshDate"] = previous["LastRefreshDate"];
  endpoint.internal[kRefreshMember] = status;
  plane.store.update(ResourceKind::kEndpoint, endpoint);

  RefreshWork work;
  dms::from_json(endpoint.doc, work.endpoint);
  work.password = stored_password(endpoint);
  work.certificate_pem = endpoint_certificate_pem(plane.store, endpoint.doc);
  plane.after_unlock([&plane, arn = endpoint.arn, refresh_id, work = std::move(work)] {
    plane.background.run([&plane, arn, refresh_id, work] {
      finish_refresh(plane, arn, refresh_id, read_endpoint_schemas(work));
    });
  });
  return {{"RefreshSchemasStatus", public_status(endpoint)}};
}

Record require_refreshed(ControlPlane& plane, const RequestContext& context,
                         const std::string& endpoint_arn) {
  auto endpoint = plane.require(context, ResourceKind::kEndpoint, endpoint_arn);
  if (!endpoint.internal.contains(kRefreshMember)) {
    throw not_found(fmt::format(
        "The schemas of endpoint {} have never been refreshed; call RefreshSchemas with the "
        "endpoint and a replication instance first.",
        endpoint.identifier));
  }
  return endpoint;
}

nlohmann::json describe_refresh_status(ControlPlane& plane, const RequestContext& context,
                                       const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeRefreshSchemasStatusMessage>(body);
  return {{"RefreshSchemasStatus",
           public_status(require_refreshed(plane, context, request.endpoint_arn))}};
}

nlohmann::json describe_schemas(ControlPlane& plane, const RequestContext& context,
                                const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeSchemasMessage>(body);
  const auto endpoint = require_refreshed(plane, context, request.endpoint_arn);
  if (!endpoint.internal.contains(kSchemasMember)) {
    const auto& status = endpoint.internal[kRefreshMember];
    throw invalid_state(
        fmt::format("The schemas of endpoint {} have not been read: the refresh is {}{}.",
                    endpoint.identifier, status.value("Status", "refreshing"),
                    status.contains("LastFailureMessage")
                        ? " (" + status["LastFailureMessage"].get<std::string>() + ")"
                        : std::string()));
  }
  const auto schemas = endpoint.internal[kSchemasMember].get<std::vector<std::string>>();
  return unfiltered_page(
      schemas, request.max_records, request.marker, "Schemas",
      [](const std::string& schema, std::size_t /*index*/) { return schema; },
      [](const std::string& schema) { return nlohmann::json(schema); });
}

}  // namespace

void fail_interrupted_schema_refreshes(Store& store) {
  for (auto& record : store.list_all(ResourceKind::kEndpoint)) {
    if (!record.internal.contains(kRefreshMember)) continue;
    auto& status = record.internal[kRefreshMember];
    if (status.value("Status", "") != "refreshing") continue;
    status["Status"] = "failed";
    status["LastFailureMessage"] =
        "The refresh was interrupted when dms-local stopped; call RefreshSchemas again.";
    // A result still on its way belongs to the interrupted refresh.
    status["refresh_id"] = status.value("refresh_id", std::int64_t{0}) + 1;
    store.update(ResourceKind::kEndpoint, record);
  }
}

void register_schemas(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"RefreshSchemas", refresh_schemas},
                  {"DescribeSchemas", describe_schemas},
                  {"DescribeRefreshSchemasStatus", describe_refresh_status}});
}

}  // namespace dagster_dms::server
