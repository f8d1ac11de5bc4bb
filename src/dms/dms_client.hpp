#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/json_rpc.hpp"
#include "aws/session.hpp"
#include "dms/client_support.hpp"
#include "dms/model/dms_model.hpp"

namespace dagster_dms::dms {

// Typed AWS Database Migration Service API. One method per operation taking the generated input
// shape and returning the generated output shape; the single-page Describe methods return the page
// with its Marker, the `*_all` methods follow Marker to the end. Thread-safe (the underlying
// JsonRpcClient is), throws what JsonRpcClient throws.
class DmsClient {
 public:
  // ListTagsForResource ARNs per call. The model sets no limit on ResourceArnList; a modest batch
  // keeps each answer small and bounds the cost of falling back to one ARN per call.
  static constexpr std::size_t kTagBatchSize = 20;

  explicit DmsClient(std::shared_ptr<aws::Session> session);

  // ---- replication tasks ---------------------------------------------------------------------
  DescribeReplicationTasksResponse describe_replication_tasks(
      const DescribeReplicationTasksMessage& input);
  // Filters matching nothing give an empty list (DMS answers ResourceNotFoundFault).
  std::vector<ReplicationTask> describe_replication_tasks_all(
      DescribeReplicationTasksMessage input = {},
      const PageCallback<DescribeReplicationTasksResponse>& on_page = {});
  // The task with this ARN, or nullopt when there is none.
  std::optional<ReplicationTask> find_replication_task(const std::string& arn,
                                                       bool without_settings = false);
  // Start and stop are not blindly retried after an ambiguous failure; see the .cpp.
  StartReplicationTaskResponse start_replication_task(const StartReplicationTaskMessage& input);
  StopReplicationTaskResponse stop_replication_task(const StopReplicationTaskMessage& input);
  CreateReplicationTaskResponse create_replication_task(const CreateReplicationTaskMessage& input);
  ModifyReplicationTaskResponse modify_replication_task(const ModifyReplicationTaskMessage& input);
  DeleteReplicationTaskResponse delete_replication_task(const DeleteReplicationTaskMessage& input);
  ReloadTablesResponse reload_tables(const ReloadTablesMessage& input);
  DescribeTableStatisticsResponse describe_table_statistics(
      const DescribeTableStatisticsMessage& input);
  // A ResourceNotFoundFault here is about the named task and stays an error.
  std::vector<TableStatistics> describe_table_statistics_all(
      DescribeTableStatisticsMessage input,
      const PageCallback<DescribeTableStatisticsResponse>& on_page = {});

  // ---- endpoints and connections -------------------------------------------------------------
  DescribeEndpointsResponse describe_endpoints(const DescribeEndpointsMessage& input);
  std::vector<Endpoint> describe_endpoints_all(
      DescribeEndpointsMessage input = {},
      const PageCallback<DescribeEndpointsResponse>& on_page = {});
  CreateEndpointResponse create_endpoint(const CreateEndpointMessage& input);
  ModifyEndpointResponse modify_endpoint(const ModifyEndpointMessage& input);
  DeleteEndpointResponse delete_endpoint(const DeleteEndpointMessage& input);
  TestConnectionResponse test_connection(const TestConnectionMessage& input);
  DescribeConnectionsResponse describe_connections(const DescribeConnectionsMessage& input);
  std::vector<Connection> describe_connections_all(
      DescribeConnectionsMessage input = {},
      const PageCallback<DescribeConnectionsResponse>& on_page = {});

  // ---- replication instances -----------------------------------------------------------------
  DescribeReplicationInstancesResponse describe_replication_instances(
      const DescribeReplicationInstancesMessage& input);
  std::vector<ReplicationInstance> describe_replication_instances_all(
      DescribeReplicationInstancesMessage input = {},
      const PageCallback<DescribeReplicationInstancesResponse>& on_page = {});
  CreateReplicationInstanceResponse create_replication_instance(
      const CreateReplicationInstanceMessage& input);
  ModifyReplicationInstanceResponse modify_replication_instance(
      const ModifyReplicationInstanceMessage& input);
  DeleteReplicationInstanceResponse delete_replication_instance(
      const DeleteReplicationInstanceMessage& input);

  // ---- serverless replications ---------------------------------------------------------------
  DescribeReplicationConfigsResponse describe_replication_configs(
      const DescribeReplicationConfigsMessage& input);
  std::vector<ReplicationConfig> describe_replication_configs_all(
      DescribeReplicationConfigsMessage input = {},
      const PageCallback<DescribeReplicationConfigsResponse>& on_page = {});
  DescribeReplicationsResponse describe_replications(const DescribeReplicationsMessage& input);
  std::vector<Replication> describe_replications_all(
      DescribeReplicationsMessage input = {},
      const PageCallback<DescribeReplicationsResponse>& on_page = {});
  // The replication of this config ARN, or nullopt when there is none.
  std::optional<Replication> find_replication(const std::string& config_arn);
  StartReplicationResponse start_replication(const StartReplicationMessage& input);
  StopReplicationResponse stop_replication(const StopReplicationMessage& input);
  CreateReplicationConfigResponse create_replication_config(
      const CreateReplicationConfigMessage& input);
  ModifyReplicationConfigResponse modify_replication_config(
      const ModifyReplicationConfigMessage& input);
  DeleteReplicationConfigResponse delete_replication_config(
      const DeleteReplicationConfigMessage& input);

  // ---- tags and account ----------------------------------------------------------------------
  ListTagsForResourceResponse list_tags_for_resource(const ListTagsForResourceMessage& input);
  AddTagsToResourceResponse add_tags_to_resource(const AddTagsToResourceMessage& input);
  RemoveTagsFromResourceResponse remove_tags_from_resource(
      const RemoveTagsFromResourceMessage& input);
  // Tags of every ARN (each requested ARN is a key, untagged ones map to an empty list), asked in
  // ResourceArnList batches of kTagBatchSize. A server that rejects ResourceArnList (older
  // servers, emulators) is asked one ResourceArn at a time from then on.
  std::map<std::string, std::vector<Tag>> tags_for_resources(const std::vector<std::string>& arns);
  DescribeAccountAttributesResponse describe_account_attributes(
      const DescribeAccountAttributesMessage& input = {});

  aws::JsonRpcClient& rpc() { return rpc_; }
  [[nodiscard]] const aws::CallCounters& counters() const { return rpc_.counters(); }

 private:
  template <class Out, class In>
  Out call(std::string_view operation, const In& input,
           aws::Retryability retryability = aws::Retryability::kIdempotent) {
    return detail::typed_call<Out>(rpc_, operation, input, retryability);
  }

  aws::JsonRpcClient rpc_;
  // Set once a server has rejected ResourceArnList; later tag lookups go per ARN straight away.
  std::atomic<bool> arn_list_rejected_{false};
};

}  // namespace dagster_dms::dms
