#include "dms/dispatch.hpp"

#include <array>
#include <stdexcept>
#include <string>
#include <utility>

namespace dagster_dms::dms {

namespace {

template <class Client>
using Invoker = nlohmann::json (*)(Client&, std::string_view, const nlohmann::json&);

template <class Client>
struct Entry {
  std::string_view name;
  Invoker<Client> invoke;
};

// Converts the input (naming the offending member on failure), calls, converts the answer.
template <auto Method, class Client, class In, class Out>
nlohmann::json invoke_method(Out (Client::*)(const In&), Client& client, std::string_view operation,
                             const nlohmann::json& input) {
  In typed;
  try {
    from_json(input.is_null() ? nlohmann::json::object() : input, typed);
  } catch (const aws::ProtocolError& e) {
    throw std::invalid_argument("invalid input for " + std::string(operation) + ": " + e.what());
  }
  nlohmann::json out;
  to_json(out, (client.*Method)(typed));
  return out;
}

template <auto Method>
constexpr auto entry(std::string_view name) {
  using Client = typename decltype([]<class C, class I, class O>(O (C::*)(const I&)) {
    return std::type_identity<C>{};
  }(Method))::type;
  return Entry<Client>{name,
                       [](Client& client, std::string_view operation, const nlohmann::json& input) {
                         return invoke_method<Method>(Method, client, operation, input);
                       }};
}

constexpr std::array kDmsOperations{
    entry<&DmsClient::describe_replication_tasks>("DescribeReplicationTasks"),
    entry<&DmsClient::start_replication_task>("StartReplicationTask"),
    entry<&DmsClient::stop_replication_task>("StopReplicationTask"),
    entry<&DmsClient::describe_table_statistics>("DescribeTableStatistics"),
    entry<&DmsClient::reload_tables>("ReloadTables"),
    entry<&DmsClient::describe_endpoints>("DescribeEndpoints"),
    entry<&DmsClient::describe_replication_instances>("DescribeReplicationInstances"),
    entry<&DmsClient::test_connection>("TestConnection"),
    entry<&DmsClient::describe_connections>("DescribeConnections"),
    entry<&DmsClient::list_tags_for_resource>("ListTagsForResource"),
    entry<&DmsClient::add_tags_to_resource>("AddTagsToResource"),
    entry<&DmsClient::remove_tags_from_resource>("RemoveTagsFromResource"),
    entry<&DmsClient::describe_replication_configs>("DescribeReplicationConfigs"),
    entry<&DmsClient::describe_replications>("DescribeReplications"),
    entry<&DmsClient::start_replication>("StartReplication"),
    entry<&DmsClient::stop_replication>("StopReplication"),
    entry<&DmsClient::describe_account_attributes>("DescribeAccountAttributes"),
    entry<&DmsClient::create_endpoint>("CreateEndpoint"),
    entry<&DmsClient::modify_endpoint>("ModifyEndpoint"),
    entry<&DmsClient::delete_endpoint>("DeleteEndpoint"),
    entry<&DmsClient::create_replication_instance>("CreateReplicationInstance"),
    entry<&DmsClient::modify_replication_instance>("ModifyReplicationInstance"),
    entry<&DmsClient::delete_replication_instance>("DeleteReplicationInstance"),
    entry<&DmsClient::create_replication_task>("CreateReplicationTask"),
    entry<&DmsClient::modify_replication_task>("ModifyReplicationTask"),
    entry<&DmsClient::delete_replication_task>("DeleteReplicationTask"),
    entry<&DmsClient::create_replication_config>("CreateReplicationConfig"),
    entry<&DmsClient::modify_replication_config>("ModifyReplicationConfig"),
    entry<&DmsClient::delete_replication_config>("DeleteReplicationConfig"),
};

// Overloaded methods name their exact type to pick the single-call form.
constexpr std::array kCloudWatchOperations{
    entry<static_cast<cloudwatch::GetMetricDataOutput (CloudWatchClient::*)(
        const cloudwatch::GetMetricDataInput&)>(&CloudWatchClient::get_metric_data)>(
        "GetMetricData"),
    entry<&CloudWatchClient::get_metric_statistics>("GetMetricStatistics"),
    entry<&CloudWatchClient::list_metrics>("ListMetrics"),
};

constexpr std::array kLogsOperations{
    entry<&LogsClient::get_log_events>("GetLogEvents"),
    entry<&LogsClient::filter_log_events>("FilterLogEvents"),
    entry<&LogsClient::describe_log_streams>("DescribeLogStreams"),
    entry<&LogsClient::describe_log_groups>("DescribeLogGroups"),
};

template <class Client, std::size_t N>
nlohmann::json dispatch(const std::array<Entry<Client>, N>& table, std::string_view service,
                        Client& client, std::string_view operation, const nlohmann::json& input) {
  for (const auto& e : table) {
    if (e.name == operation) return e.invoke(client, operation, input);
  }
  std::string valid;
  for (const auto& e : table) {
    if (!valid.empty()) valid += ", ";
    valid += e.name;
  }
  throw std::invalid_argument("unknown " + std::string(service) + " operation '" +
                              std::string(operation) + "'; valid operations: " + valid);
}

template <class Client, std::size_t N>
std::vector<std::string_view> names(const std::array<Entry<Client>, N>& table) {
  std::vector<std::string_view> out;
  for (const auto& e : table) out.push_back(e.name);
  return out;
}

}  // namespace

nlohmann::json invoke_dms(DmsClient& client, std::string_view operation,
                          const nlohmann::json& input) {
  return dispatch(kDmsOperations, "DMS", client, operation, input);
}

nlohmann::json invoke_cloudwatch(CloudWatchClient& client, std::string_view operation,
                                 const nlohmann::json& input) {
  return dispatch(kCloudWatchOperations, "CloudWatch", client, operation, input);
}

nlohmann::json invoke_logs(LogsClient& client, std::string_view operation,
                           const nlohmann::json& input) {
  return dispatch(kLogsOperations, "CloudWatch Logs", client, operation, input);
}

std::vector<std::string_view> dms_operations() {
  return names(kDmsOperations);
}
std::vector<std::string_view> cloudwatch_operations() {
  return names(kCloudWatchOperations);
}
std::vector<std::string_view> logs_operations() {
  return names(kLogsOperations);
}

}  // namespace dagster_dms::dms
