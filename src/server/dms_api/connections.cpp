#include "server/dms_api/connections.hpp"

#include <fmt/format.h>

#include "server/dms_api/certificates.hpp"
#include "server/dms_api/connection_tester.hpp"
#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/endpoint_secrets.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

const FilterSpec kConnectionFilters{{"endpoint-arn", "replication-instance-arn"}, {}};

// The store key (and listing order) of the connection between an instance and an endpoint.
std::string connection_key(const std::string& instance_arn, const std::string& endpoint_arn) {
  return instance_arn + "|" + endpoint_arn;
}

nlohmann::json public_connection(const Record& record) {
  return public_document<dms::Connection>(record.doc);
}

void finish_connection_test(ControlPlane& plane, const std::string& key, std::int64_t test_id,
                            const std::optional<std::string>& failure) {
  const std::lock_guard lock(plane.mutex);
  if (plane.shutting_down) return;
  plane.store.transaction([&] {
    auto record = plane.store.find_by_arn(ResourceKind::kConnection, key);
    // Deleted with its endpoint or instance, or tested again meanwhile: nothing to record.
    if (!record || record->internal.value("test_id", std::int64_t{0}) != test_id) return;
    set_status(record->doc, failure ? ConnectionStatus::kFailed : ConnectionStatus::kSuccessful);
    if (failure) {
      record->doc["LastFailureMessage"] = *failure;
    } else {
      record->doc.erase("LastFailureMessage");
    }
    plane.store.update(ResourceKind::kConnection, *record);
  });
}

nlohmann::json test_connection(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::TestConnectionMessage>(body);
  const auto instance =
      plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  const auto endpoint = plane.require(context, ResourceKind::kEndpoint, request.endpoint_arn);
  if (status_in<InstanceStatus>(instance.doc) != InstanceStatus::kAvailable) {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", instance.identifier));
  }
  const auto key = connection_key(instance.arn, endpoint.arn);
  auto existing = plane.store.find_by_arn(ResourceKind::kConnection, key);
  if (existing && status_in<ConnectionStatus>(existing->doc) == ConnectionStatus::kTesting) {
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
                {"EndpointIdentifier", endpoint.identifier},
                {"ReplicationInstanceIdentifier", instance.identifier}};
  set_status(record.doc, ConnectionStatus::kTesting);
  // Each test has an id, so a slow earlier test cannot overwrite a newer one's result.
  const auto test_id = existing ? existing->internal.value("test_id", std::int64_t{0}) + 1 : 1;
  record.internal["test_id"] = test_id;
  if (existing) {
    plane.store.update(ResourceKind::kConnection, record);
  } else {
    plane.store.insert(ResourceKind::kConnection, record);
  }

  ConnectionTestRequest test;
  dms::from_json(endpoint.doc, test.endpoint);
  test.password = stored_password(endpoint);
  test.certificate_pem = endpoint_certificate_pem(plane.store, endpoint.doc);
  test.s3_root = plane.options.s3_root;
  test.connect_timeout = plane.options.connection_test_timeout;
  plane.after_unlock([&plane, key, test_id, test = std::move(test)] {
    plane.background.run([&plane, key, test_id, test] {
      std::optional<std::string> failure;
      try {
        failure = test_endpoint_connection(test);
      } catch (const std::exception& error) {
        failure = fmt::format("Test Endpoint failed: {}", error.what());
      }
      finish_connection_test(plane, key, test_id, failure);
    });
  });
  return {{"Connection", public_connection(record)}};
}

nlohmann::json describe_connections(ControlPlane& plane, const RequestContext& context,
                                    const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeConnectionsMessage>(body);
  return describe_page(
      plane.store.list(ResourceKind::kConnection, context.account, context.region),
      DescribeRequest::of(request),
      {kConnectionFilters, "No connections found matching provided filters"}, "Connections",
      [](const Record& record, std::string_view name) {
        if (name == "endpoint-arn") {
          return std::vector<std::string>{record.doc.value("EndpointArn", "")};
        }
        return std::vector<std::string>{record.doc.value("ReplicationInstanceArn", "")};
      },
      identifier_key,
      [&](Record record) {
        // Identifiers can change (ModifyEndpoint, ModifyReplicationInstance): show the current
        // ones.
        if (auto endpoint = plane.store.find_by_arn(ResourceKind::kEndpoint,
                                                    record.doc.value("EndpointArn", ""))) {
          record.doc["EndpointIdentifier"] = endpoint->identifier;
        }
        if (auto instance = plane.store.find_by_arn(
                ResourceKind::kInstance, record.doc.value("ReplicationInstanceArn", ""))) {
          record.doc["ReplicationInstanceIdentifier"] = instance->identifier;
        }
        return public_connection(record);
      });
}

// DeleteConnection: forgets the last test of an endpoint from an instance (answered `deleting`);
// a test under way cannot be deleted.
nlohmann::json delete_connection(ControlPlane& plane, const RequestContext& context,
                                 const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteConnectionMessage>(body);
  const auto key = connection_key(request.replication_instance_arn, request.endpoint_arn);
  auto record = plane.store.find_by_arn(ResourceKind::kConnection, key);
  if (!record || record->account != context.account || record->region != context.region) {
    throw not_found(fmt::format("No connection between replication instance {} and endpoint {}.",
                                request.replication_instance_arn, request.endpoint_arn));
  }
  if (status_in<ConnectionStatus>(record->doc) == ConnectionStatus::kTesting) {
    throw invalid_state("The connection is being tested; delete it once the test has ended.");
  }
  plane.store.remove(ResourceKind::kConnection, key);
  set_status(record->doc, ConnectionStatus::kDeleting);
  return {{"Connection", public_connection(*record)}};
}

}  // namespace

void fail_interrupted_connection_tests(Store& store) {
  for (auto& record : store.list_all(ResourceKind::kConnection)) {
    if (status_in<ConnectionStatus>(record.doc) != ConnectionStatus::kTesting) continue;
    set_status(record.doc, ConnectionStatus::kFailed);
    record.doc["LastFailureMessage"] =
        "Test Endpoint failed: the test was interrupted when dms-local stopped; test again.";
    // A result still on its way belongs to the interrupted test.
    record.internal["test_id"] = record.internal.value("test_id", std::int64_t{0}) + 1;
    store.update(ResourceKind::kConnection, record);
  }
}

void remove_connections_of(Store& store, const RequestContext& context, const std::string& arn) {
  for (const auto& record :
       store.list(ResourceKind::kConnection, context.account, context.region)) {
    if (record.doc.value("EndpointArn", "") == arn ||
        record.doc.value("ReplicationInstanceArn", "") == arn) {
      store.remove(ResourceKind::kConnection, record.arn);
    }
  }
}

void register_connections(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"TestConnection", test_connection},
                  {"DescribeConnections", describe_connections},
                  {"DeleteConnection", delete_connection}});
}

}  // namespace dagster_dms::server
