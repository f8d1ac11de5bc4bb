// TestConnection, DescribeConnections: a connection is the last test of one endpoint from one
// replication instance. The test really connects, on a background thread, as DMS's does.
#include <fmt/format.h>

#include "server/dms_api/connection_tester.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/filters.hpp"
#include "server/front/api_error.hpp"
#include "server/front/pagination.hpp"

namespace dagster_dms::server {

namespace {

const FilterSpec kConnectionFilters{{"endpoint-arn", "replication-instance-arn"}, {}};

// The store key (and listing order) of the connection between an instance and an endpoint.
std::string connection_key(const std::string& instance_arn, const std::string& endpoint_arn) {
  return instance_arn + "|" + endpoint_arn;
}

nlohmann::json public_connection(const Record& record) {
  dms::Connection connection;
  dms::from_json(record.doc, connection);
  nlohmann::json out;
  dms::to_json(out, connection);
  return out;
}

}  // namespace

std::optional<std::string> stored_password(const Record& endpoint) {
  if (endpoint.internal.contains("Password") && endpoint.internal["Password"].is_string()) {
    return endpoint.internal["Password"].get<std::string>();
  }
  const auto& settings = endpoint.internal.contains("PostgreSQLSettings")
                             ? endpoint.internal["PostgreSQLSettings"]
                             : nlohmann::json::object();
  if (settings.is_object() && settings.contains("Password") && settings["Password"].is_string()) {
    return settings["Password"].get<std::string>();
  }
  return std::nullopt;
}

nlohmann::json DmsService::test_connection(const RequestContext& context,
                                           const nlohmann::json& body) {
  const auto request = parse_request<dms::TestConnectionMessage>(body);
  const auto instance = require(context, ResourceKind::kInstance, request.replication_instance_arn);
  const auto endpoint = require(context, ResourceKind::kEndpoint, request.endpoint_arn);
  if (instance.doc.value("ReplicationInstanceStatus", "") != "available") {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", instance.identifier));
  }
  const auto key = connection_key(instance.arn, endpoint.arn);
  auto existing = store_.find_by_arn(ResourceKind::kConnection, key);
  if (existing && existing->doc.value("Status", "") == "testing") {
    throw invalid_state(fmt::format(
        "A connection test of endpoint {} from replication instance {} is already running.",
        endpoint.identifier, instance.identifier));
  }
  Record record;
  record.arn = key;
  record.identifier = key;
  record.account = context.account;
  record.region = context.region;
  record.doc = {{"ReplicationInstanceArn", instance.arn},
                {"EndpointArn", endpoint.arn},
                {"Status", "testing"},
                {"EndpointIdentifier", endpoint.identifier},
                {"ReplicationInstanceIdentifier", instance.identifier}};
  // Each test has an id, so a slow earlier test cannot overwrite a newer one's result.
  const auto test_id = existing ? existing->internal.value("test_id", std::int64_t{0}) + 1 : 1;
  record.internal["test_id"] = test_id;
  if (existing) {
    store_.update(ResourceKind::kConnection, record);
  } else {
    store_.insert(ResourceKind::kConnection, record);
  }

  ConnectionTestRequest test;
  dms::from_json(endpoint.doc, test.endpoint);
  test.password = stored_password(endpoint);
  test.s3_root = options_.s3_root;
  test.connect_timeout = options_.connection_test_timeout;
  after_unlock([this, key, test_id, test = std::move(test)] {
    background_.run([this, key, test_id, test] {
      std::optional<std::string> failure;
      try {
        failure = test_endpoint_connection(test);
      } catch (const std::exception& error) {
        failure = fmt::format("Test Endpoint failed: {}", error.what());
      }
      finish_connection_test(key, test_id, failure);
    });
  });
  return {{"Connection", public_connection(record)}};
}

void DmsService::finish_connection_test(const std::string& key, std::int64_t test_id,
                                        const std::optional<std::string>& failure) {
  const std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  store_.transaction([&] {
    auto record = store_.find_by_arn(ResourceKind::kConnection, key);
    // Deleted with its endpoint or instance, or tested again meanwhile: nothing to record.
    if (!record || record->internal.value("test_id", std::int64_t{0}) != test_id) return;
    record->doc["Status"] = failure ? "failed" : "successful";
    if (failure) {
      record->doc["LastFailureMessage"] = *failure;
    } else {
      record->doc.erase("LastFailureMessage");
    }
    store_.update(ResourceKind::kConnection, *record);
  });
}

nlohmann::json DmsService::describe_connections(const RequestContext& context,
                                                const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeConnectionsMessage>(body);
  validate_filters(request.filters, kConnectionFilters);
  std::vector<Record> matched;
  std::vector<std::string> keys;
  for (auto& record : store_.list(ResourceKind::kConnection, context.account, context.region)) {
    const bool match =
        matches_filters(request.filters, kConnectionFilters, [&](std::string_view name) {
          if (name == "endpoint-arn") {
            return std::vector<std::string>{record.doc.value("EndpointArn", "")};
          }
          return std::vector<std::string>{record.doc.value("ReplicationInstanceArn", "")};
        });
    if (!match) continue;
    // Identifiers can change (ModifyEndpoint, ModifyReplicationInstance): show the current ones.
    if (auto endpoint =
            store_.find_by_arn(ResourceKind::kEndpoint, record.doc.value("EndpointArn", ""))) {
      record.doc["EndpointIdentifier"] = endpoint->identifier;
    }
    if (auto instance = store_.find_by_arn(ResourceKind::kInstance,
                                           record.doc.value("ReplicationInstanceArn", ""))) {
      record.doc["ReplicationInstanceIdentifier"] = instance->identifier;
    }
    keys.push_back(record.identifier);
    matched.push_back(std::move(record));
  }
  if (matched.empty() && has_filters(request.filters)) {
    throw not_found("No connections found matching provided filters");
  }
  const auto window = page_window(keys, request.max_records, request.marker, {});
  nlohmann::json connections = nlohmann::json::array();
  for (auto i = window.begin; i < window.end; ++i) {
    connections.push_back(public_connection(matched[i]));
  }
  nlohmann::json out = {{"Connections", connections}};
  if (window.next_marker) out["Marker"] = *window.next_marker;
  return out;
}

void DmsService::recover_interrupted_connections_locked() {
  for (auto& record : store_.list_all(ResourceKind::kConnection)) {
    if (record.doc.value("Status", "") != "testing") continue;
    record.doc["Status"] = "failed";
    record.doc["LastFailureMessage"] =
        "Test Endpoint failed: the test was interrupted when dms-local stopped; test again.";
    // A result still on its way belongs to the interrupted test.
    record.internal["test_id"] = record.internal.value("test_id", std::int64_t{0}) + 1;
    store_.update(ResourceKind::kConnection, record);
  }
}

void DmsService::remove_connections(const RequestContext& context, const std::string& arn) {
  for (const auto& record :
       store_.list(ResourceKind::kConnection, context.account, context.region)) {
    if (record.doc.value("EndpointArn", "") == arn ||
        record.doc.value("ReplicationInstanceArn", "") == arn) {
      store_.remove(ResourceKind::kConnection, record.arn);
    }
  }
}

}  // namespace dagster_dms::server
