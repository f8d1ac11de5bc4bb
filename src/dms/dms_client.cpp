#include "dms/dms_client.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <set>
#include <utility>

#include "aws/service_info.hpp"

namespace dagster_dms::dms {

namespace {

using aws::Retryability;

Filter filter(std::string name, std::string value) {
  Filter f;
  f.name = std::move(name);
  f.values = {std::move(value)};
  return f;
}

bool is_one_of(const std::optional<std::string>& value,
               std::initializer_list<std::string_view> set) {
  return value && std::find(set.begin(), set.end(), *value) != set.end();
}

// Codes with which a server says it does not understand ResourceArnList.
bool rejects_arn_list(const aws::ServiceError& error) {
  const std::string& code = error.code();
  return code.starts_with("InvalidParameter") || code.starts_with("Validation") ||
         code == "SerializationException";
}

// Start and stop change state, so the plumbing does not resend them after a failure that leaves
// their effect unknown (Retryability::kNotAfterAmbiguousFailure). Resending blindly could start a
// task twice (a second full load over a finished one) or fail with InvalidResourceStateFault for a
// start that did happen. Instead, after an ambiguous failure (a timeout or reset once the request
// was sent, or a 5xx) we read the resource's state:
//   - if it shows the call took effect, we answer with that state as the call's response;
//   - otherwise we send the call once more, and whatever that attempt gives is the answer.
// If the state cannot be read either, the original failure is rethrown: it is the better message.
template <class Out, class Send, class Recover>
Out call_with_state_check(Send&& send, Recover&& recover) {
  std::exception_ptr failure;
  try {
    return send();
  } catch (...) {
    failure = std::current_exception();
    if (!detail::is_ambiguous_failure(failure)) throw;
  }
  std::optional<Out> settled;
  try {
    settled = recover();
  } catch (...) {
    std::rethrow_exception(failure);
  }
  if (settled) return *std::move(settled);
  return send();
}

}  // namespace

DmsClient::DmsClient(std::shared_ptr<aws::Session> session)
    : rpc_(std::move(session), aws::dms_service()) {}

// ---- replication tasks -------------------------------------------------------------------------

DescribeReplicationTasksResponse DmsClient::describe_replication_tasks(
    const DescribeReplicationTasksMessage& input) {
  return call<DescribeReplicationTasksResponse>("DescribeReplicationTasks", input);
}

std::vector<ReplicationTask> DmsClient::describe_replication_tasks_all(
    DescribeReplicationTasksMessage input,
    const PageCallback<DescribeReplicationTasksResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_replication_tasks(in); },
      &DescribeReplicationTasksMessage::marker, &DescribeReplicationTasksResponse::marker,
      &DescribeReplicationTasksResponse::replication_tasks, on_page, true);
}

std::optional<ReplicationTask> DmsClient::find_replication_task(const std::string& arn,
                                                                bool without_settings) {
  DescribeReplicationTasksMessage input;
  input.filters = {filter("replication-task-arn", arn)};
  if (without_settings) input.without_settings = true;
  for (auto& task : describe_replication_tasks_all(std::move(input))) {
    if (task.replication_task_arn == arn) return std::move(task);
  }
  return std::nullopt;
}

StartReplicationTaskResponse DmsClient::start_replication_task(
    const StartReplicationTaskMessage& input) {
  // Before sending: a run that began from this moment on is ours (the service's clock, read back
  // through the task's StartDate, is assumed not to run behind ours).
  const Timestamp sent_at = rpc_.session()->clock().now();
  return call_with_state_check<StartReplicationTaskResponse>(
      [&] {
        return call<StartReplicationTaskResponse>("StartReplicationTask", input,
                                                  Retryability::kNotAfterAmbiguousFailure);
      },
      [&]() -> std::optional<StartReplicationTaskResponse> {
        auto task = find_replication_task(input.replication_task_arn);
        if (!task) return std::nullopt;
        // A start is only accepted from ready, stopped or failed, so a task in motion was started
        // by this call. A short full load can already be over: then its StartDate tells.
        bool took_effect = is_one_of(task->status, {"starting", "running", "stopping"});
        if (!took_effect && is_one_of(task->status, {"stopped", "failed"})) {
          const auto& stats = task->replication_task_stats;
          took_effect = stats && stats->start_date && *stats->start_date >= sent_at;
        }
        if (!took_effect) return std::nullopt;
        StartReplicationTaskResponse response;
        response.replication_task = std::move(task);
        return response;
      });
}

StopReplicationTaskResponse DmsClient::stop_replication_task(
    const StopReplicationTaskMessage& input) {
  return call_with_state_check<StopReplicationTaskResponse>(
      [&] {
        return call<StopReplicationTaskResponse>("StopReplicationTask", input,
                                                 Retryability::kNotAfterAmbiguousFailure);
      },
      [&]() -> std::optional<StopReplicationTaskResponse> {
        auto task = find_replication_task(input.replication_task_arn);
        if (!task || !is_one_of(task->status, {"stopping", "stopped"})) return std::nullopt;
        StopReplicationTaskResponse response;
        response.replication_task = std::move(task);
        return response;
      });
}

CreateReplicationTaskResponse DmsClient::create_replication_task(
    const CreateReplicationTaskMessage& input) {
  return call<CreateReplicationTaskResponse>("CreateReplicationTask", input);
}

ModifyReplicationTaskResponse DmsClient::modify_replication_task(
    const ModifyReplicationTaskMessage& input) {
  return call<ModifyReplicationTaskResponse>("ModifyReplicationTask", input);
}

DeleteReplicationTaskResponse DmsClient::delete_replication_task(
    const DeleteReplicationTaskMessage& input) {
  return call<DeleteReplicationTaskResponse>("DeleteReplicationTask", input);
}

ReloadTablesResponse DmsClient::reload_tables(const ReloadTablesMessage& input) {
  return call<ReloadTablesResponse>("ReloadTables", input);
}

DescribeTableStatisticsResponse DmsClient::describe_table_statistics(
    const DescribeTableStatisticsMessage& input) {
  return call<DescribeTableStatisticsResponse>("DescribeTableStatistics", input);
}

std::vector<TableStatistics> DmsClient::describe_table_statistics_all(
    DescribeTableStatisticsMessage input,
    const PageCallback<DescribeTableStatisticsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_table_statistics(in); },
      &DescribeTableStatisticsMessage::marker, &DescribeTableStatisticsResponse::marker,
      &DescribeTableStatisticsResponse::table_statistics, on_page, false);
}

// ---- endpoints and connections -----------------------------------------------------------------

DescribeEndpointsResponse DmsClient::describe_endpoints(const DescribeEndpointsMessage& input) {
  return call<DescribeEndpointsResponse>("DescribeEndpoints", input);
}

std::vector<Endpoint> DmsClient::describe_endpoints_all(
    DescribeEndpointsMessage input, const PageCallback<DescribeEndpointsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_endpoints(in); },
      &DescribeEndpointsMessage::marker, &DescribeEndpointsResponse::marker,
      &DescribeEndpointsResponse::endpoints, on_page, true);
}

CreateEndpointResponse DmsClient::create_endpoint(const CreateEndpointMessage& input) {
  return call<CreateEndpointResponse>("CreateEndpoint", input);
}

ModifyEndpointResponse DmsClient::modify_endpoint(const ModifyEndpointMessage& input) {
  return call<ModifyEndpointResponse>("ModifyEndpoint", input);
}

DeleteEndpointResponse DmsClient::delete_endpoint(const DeleteEndpointMessage& input) {
  return call<DeleteEndpointResponse>("DeleteEndpoint", input);
}

TestConnectionResponse DmsClient::test_connection(const TestConnectionMessage& input) {
  return call<TestConnectionResponse>("TestConnection", input);
}

DescribeConnectionsResponse DmsClient::describe_connections(
    const DescribeConnectionsMessage& input) {
  return call<DescribeConnectionsResponse>("DescribeConnections", input);
}

std::vector<Connection> DmsClient::describe_connections_all(
    DescribeConnectionsMessage input, const PageCallback<DescribeConnectionsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_connections(in); },
      &DescribeConnectionsMessage::marker, &DescribeConnectionsResponse::marker,
      &DescribeConnectionsResponse::connections, on_page, true);
}

// ---- replication instances ---------------------------------------------------------------------

DescribeReplicationInstancesResponse DmsClient::describe_replication_instances(
    const DescribeReplicationInstancesMessage& input) {
  return call<DescribeReplicationInstancesResponse>("DescribeReplicationInstances", input);
}

std::vector<ReplicationInstance> DmsClient::describe_replication_instances_all(
    DescribeReplicationInstancesMessage input,
    const PageCallback<DescribeReplicationInstancesResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_replication_instances(in); },
      &DescribeReplicationInstancesMessage::marker, &DescribeReplicationInstancesResponse::marker,
      &DescribeReplicationInstancesResponse::replication_instances, on_page, true);
}

CreateReplicationInstanceResponse DmsClient::create_replication_instance(
    const CreateReplicationInstanceMessage& input) {
  return call<CreateReplicationInstanceResponse>("CreateReplicationInstance", input);
}

ModifyReplicationInstanceResponse DmsClient::modify_replication_instance(
    const ModifyReplicationInstanceMessage& input) {
  return call<ModifyReplicationInstanceResponse>("ModifyReplicationInstance", input);
}

DeleteReplicationInstanceResponse DmsClient::delete_replication_instance(
    const DeleteReplicationInstanceMessage& input) {
  return call<DeleteReplicationInstanceResponse>("DeleteReplicationInstance", input);
}

// ---- serverless replications -------------------------------------------------------------------

DescribeReplicationConfigsResponse DmsClient::describe_replication_configs(
    const DescribeReplicationConfigsMessage& input) {
  return call<DescribeReplicationConfigsResponse>("DescribeReplicationConfigs", input);
}

std::vector<ReplicationConfig> DmsClient::describe_replication_configs_all(
    DescribeReplicationConfigsMessage input,
    const PageCallback<DescribeReplicationConfigsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_replication_configs(in); },
      &DescribeReplicationConfigsMessage::marker, &DescribeReplicationConfigsResponse::marker,
      &DescribeReplicationConfigsResponse::replication_configs, on_page, true);
}

DescribeReplicationsResponse DmsClient::describe_replications(
    const DescribeReplicationsMessage& input) {
  return call<DescribeReplicationsResponse>("DescribeReplications", input);
}

std::vector<Replication> DmsClient::describe_replications_all(
    DescribeReplicationsMessage input, const PageCallback<DescribeReplicationsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_replications(in); },
      &DescribeReplicationsMessage::marker, &DescribeReplicationsResponse::marker,
      &DescribeReplicationsResponse::replications, on_page, true);
}

std::optional<Replication> DmsClient::find_replication(const std::string& config_arn) {
  DescribeReplicationsMessage input;
  input.filters = {filter("replication-config-arn", config_arn)};
  for (auto& replication : describe_replications_all(std::move(input))) {
    if (replication.replication_config_arn == config_arn) return std::move(replication);
  }
  return std::nullopt;
}

StartReplicationResponse DmsClient::start_replication(const StartReplicationMessage& input) {
  // Same reasoning as start_replication_task. A serverless replication at rest is created,
  // stopped, failed or deprovisioned; any other state (provisioning, metadata loading, running...)
  // means this start was accepted.
  return call_with_state_check<StartReplicationResponse>(
      [&] {
        return call<StartReplicationResponse>("StartReplication", input,
                                              Retryability::kNotAfterAmbiguousFailure);
      },
      [&]() -> std::optional<StartReplicationResponse> {
        auto replication = find_replication(input.replication_config_arn);
        if (!replication || !replication->status ||
            is_one_of(replication->status, {"created", "stopped", "failed", "deprovisioned"})) {
          return std::nullopt;
        }
        StartReplicationResponse response;
        response.replication = std::move(replication);
        return response;
      });
}

StopReplicationResponse DmsClient::stop_replication(const StopReplicationMessage& input) {
  return call_with_state_check<StopReplicationResponse>(
      [&] {
        return call<StopReplicationResponse>("StopReplication", input,
                                             Retryability::kNotAfterAmbiguousFailure);
      },
      [&]() -> std::optional<StopReplicationResponse> {
        auto replication = find_replication(input.replication_config_arn);
        if (!replication || !is_one_of(replication->status, {"stopping", "stopped",
                                                             "deprovisioning", "deprovisioned"})) {
          return std::nullopt;
        }
        StopReplicationResponse response;
        response.replication = std::move(replication);
        return response;
      });
}

CreateReplicationConfigResponse DmsClient::create_replication_config(
    const CreateReplicationConfigMessage& input) {
  return call<CreateReplicationConfigResponse>("CreateReplicationConfig", input);
}

ModifyReplicationConfigResponse DmsClient::modify_replication_config(
    const ModifyReplicationConfigMessage& input) {
  return call<ModifyReplicationConfigResponse>("ModifyReplicationConfig", input);
}

DeleteReplicationConfigResponse DmsClient::delete_replication_config(
    const DeleteReplicationConfigMessage& input) {
  return call<DeleteReplicationConfigResponse>("DeleteReplicationConfig", input);
}

// ---- tags and account --------------------------------------------------------------------------

ListTagsForResourceResponse DmsClient::list_tags_for_resource(
    const ListTagsForResourceMessage& input) {
  return call<ListTagsForResourceResponse>("ListTagsForResource", input);
}

AddTagsToResourceResponse DmsClient::add_tags_to_resource(const AddTagsToResourceMessage& input) {
  return call<AddTagsToResourceResponse>("AddTagsToResource", input);
}

RemoveTagsFromResourceResponse DmsClient::remove_tags_from_resource(
    const RemoveTagsFromResourceMessage& input) {
  return call<RemoveTagsFromResourceResponse>("RemoveTagsFromResource", input);
}

std::map<std::string, std::vector<Tag>> DmsClient::tags_for_resources(
    const std::vector<std::string>& arns) {
  std::map<std::string, std::vector<Tag>> result;
  std::vector<std::string> pending;  // unique, in the caller's order
  for (const auto& arn : arns) {
    if (result.emplace(arn, std::vector<Tag>{}).second) pending.push_back(arn);
  }

  const auto one_by_one = [&](std::size_t from) {
    for (std::size_t i = from; i < pending.size(); ++i) {
      ListTagsForResourceMessage input;
      input.resource_arn = pending[i];
      auto page = list_tags_for_resource(input);
      auto& tags = result[pending[i]];
      for (auto& tag : page.tag_list.value_or(std::vector<Tag>{})) {
        if (!tag.resource_arn) tag.resource_arn = pending[i];
        tags.push_back(std::move(tag));
      }
    }
  };

  std::size_t next = 0;
  while (next < pending.size()) {
    // A single ARN goes as ResourceArn, which every server understands.
    if (arn_list_rejected_.load() || pending.size() - next == 1) {
      one_by_one(next);
      break;
    }
    const std::size_t end = std::min(pending.size(), next + kTagBatchSize);
    ListTagsForResourceMessage input;
    input.resource_arn_list = std::vector<std::string>(pending.begin() + static_cast<long>(next),
                                                       pending.begin() + static_cast<long>(end));
    ListTagsForResourceResponse page;
    try {
      page = list_tags_for_resource(input);
    } catch (const aws::ServiceError& e) {
      if (!rejects_arn_list(e)) throw;
      arn_list_rejected_.store(true);
      continue;
    }
    auto tags = page.tag_list.value_or(std::vector<Tag>{});
    // Without ResourceArn on every tag the answer cannot be attributed: the server ignored the
    // list. Ask per ARN instead.
    if (std::any_of(tags.begin(), tags.end(), [](const Tag& t) { return !t.resource_arn; })) {
      arn_list_rejected_.store(true);
      continue;
    }
    for (auto& tag : tags) {
      auto it = result.find(*tag.resource_arn);
      if (it != result.end()) it->second.push_back(std::move(tag));
    }
    next = end;
  }
  return result;
}

DescribeAccountAttributesResponse DmsClient::describe_account_attributes(
    const DescribeAccountAttributesMessage& input) {
  return call<DescribeAccountAttributesResponse>("DescribeAccountAttributes", input);
}

}  // namespace dagster_dms::dms
