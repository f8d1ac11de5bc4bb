#include "resolve.hpp"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "aws/errors.hpp"

namespace dagster_dms::dmsctl {
namespace {

std::vector<dms::Filter> by_name(const std::string& name, const char* arn_filter,
                                 const char* id_filter) {
  return {dms::Filter{is_arn(name) ? arn_filter : id_filter, {name}, {}}};
}

[[noreturn]] void not_found(dms::DmsClient& client, std::string_view operation,
                            std::string_view kind, const std::string& name) {
  throw aws::ServiceError(
      "DMS", std::string(operation), "ResourceNotFoundFault",
      fmt::format("{} '{}' not found in region {}: check the identifier or ARN and the region",
                  kind, name, client.rpc().session()->region()),
      400, "");
}

// Calls `describe`, treating DMS's "nothing matched" fault as an empty answer.
template <class Item, class Describe>
std::optional<Item> first_match(Describe&& describe) {
  try {
    auto items = describe();
    if (items && !items->empty()) return std::move(items->front());
  } catch (const aws::ServiceError& e) {
    if (e.code() != "ResourceNotFoundFault") throw;
  }
  return std::nullopt;
}

}  // namespace

bool is_arn(std::string_view name) {
  return name.starts_with("arn:");
}

std::string arn_resource_id(std::string_view arn) {
  const auto colon = arn.rfind(':');
  return std::string(colon == std::string_view::npos ? arn : arn.substr(colon + 1));
}

dms::ReplicationTask find_task(dms::DmsClient& client, const std::string& name,
                               bool with_settings) {
  dms::DescribeReplicationTasksMessage request;
  request.filters = by_name(name, "replication-task-arn", "replication-task-id");
  request.without_settings = !with_settings;
  auto task = first_match<dms::ReplicationTask>(
      [&] { return client.describe_replication_tasks(request).replication_tasks; });
  if (!task) not_found(client, "DescribeReplicationTasks", "Replication task", name);
  return std::move(*task);
}

dms::Endpoint find_endpoint(dms::DmsClient& client, const std::string& name) {
  dms::DescribeEndpointsMessage request;
  request.filters = by_name(name, "endpoint-arn", "endpoint-id");
  auto endpoint =
      first_match<dms::Endpoint>([&] { return client.describe_endpoints(request).endpoints; });
  if (!endpoint) not_found(client, "DescribeEndpoints", "Endpoint", name);
  return std::move(*endpoint);
}

dms::ReplicationInstance find_instance(dms::DmsClient& client, const std::string& name) {
  dms::DescribeReplicationInstancesMessage request;
  request.filters = by_name(name, "replication-instance-arn", "replication-instance-id");
  auto instance = first_match<dms::ReplicationInstance>(
      [&] { return client.describe_replication_instances(request).replication_instances; });
  if (!instance) not_found(client, "DescribeReplicationInstances", "Replication instance", name);
  return std::move(*instance);
}

dms::ReplicationConfig find_replication_config(dms::DmsClient& client, const std::string& name) {
  dms::DescribeReplicationConfigsMessage request;
  request.filters = by_name(name, "replication-config-arn", "replication-config-id");
  auto config = first_match<dms::ReplicationConfig>(
      [&] { return client.describe_replication_configs(request).replication_configs; });
  if (!config) not_found(client, "DescribeReplicationConfigs", "Replication config", name);
  return std::move(*config);
}

}  // namespace dagster_dms::dmsctl
