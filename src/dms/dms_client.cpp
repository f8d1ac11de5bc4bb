#include "dms/dms_client.hpp"

#include <algorithm>
#include <utility>

#include "aws/service_info.hpp"

namespace dagster_dms::dms {

namespace {

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

// `resource`, read back after an ambiguous failure, as the answer of the call when it shows the
// call took effect.
template <class Response, class Resource>
std::optional<Response> answer_if(bool took_effect, std::optional<Resource> resource,
                                  std::optional<Resource> Response::*member) {
  if (!took_effect) return std::nullopt;
  Response response;
  response.*member = std::move(resource);
  return response;
}

// Codes with which a server says it does not understand ResourceArnList.
bool rejects_arn_list(const aws::ServiceError& error) {
  const std::string& code = error.code();
  return code.starts_with("InvalidParameter") || code.starts_with("Validation") ||
         code == "SerializationException";
}

}  // namespace

DmsClient::DmsClient(std::shared_ptr<aws::Session> session)
    : rpc_(std::move(session), aws::dms_service()) {}

// ---- replication tasks -------------------------------------------------------------------------

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

// After an ambiguous failure (see detail::call_with_state_check).
std::optional<StartReplicationTaskResponse> DmsClient::state_after_ambiguous_failure(
    const StartReplicationTaskMessage& input, Timestamp sent_at) {
  auto task = find_replication_task(input.replication_task_arn);
  // A start is only accepted from ready, stopped or failed, so a task in motion was started by
  // this call. A short full load can already be over: then its StartDate tells (the service's
  // clock is assumed not to run behind ours).
  bool took_effect = task && is_one_of(task->status, {"starting", "running", "stopping"});
  if (task && !took_effect && is_one_of(task->status, {"stopped", "failed"})) {
    const auto& stats = task->replication_task_stats;
    took_effect = stats && stats->start_date && *stats->start_date >= sent_at;
  }
  return answer_if(took_effect, std::move(task), &StartReplicationTaskResponse::replication_task);
}

std::optional<StopReplicationTaskResponse> DmsClient::state_after_ambiguous_failure(
    const StopReplicationTaskMessage& input, Timestamp /*sent_at*/) {
  auto task = find_replication_task(input.replication_task_arn);
  const bool took_effect = task && is_one_of(task->status, {"stopping", "stopped"});
  return answer_if(took_effect, std::move(task), &StopReplicationTaskResponse::replication_task);
}

// ---- serverless replications -------------------------------------------------------------------

std::optional<Replication> DmsClient::find_replication(const std::string& config_arn) {
  DescribeReplicationsMessage input;
  input.filters = {filter("replication-config-arn", config_arn)};
  for (auto& replication : describe_replications_all(std::move(input))) {
    if (replication.replication_config_arn == config_arn) return std::move(replication);
  }
  return std::nullopt;
}

std::optional<StartReplicationResponse> DmsClient::state_after_ambiguous_failure(
    const StartReplicationMessage& input, Timestamp /*sent_at*/) {
  // A serverless replication at rest is created, stopped, failed or deprovisioned; any other
  // state (provisioning, metadata loading, running...) means this start was accepted.
  auto replication = find_replication(input.replication_config_arn);
  const bool took_effect =
      replication && replication->status &&
      !is_one_of(replication->status, {"created", "stopped", "failed", "deprovisioned"});
  return answer_if(took_effect, std::move(replication), &StartReplicationResponse::replication);
}

std::optional<StopReplicationResponse> DmsClient::state_after_ambiguous_failure(
    const StopReplicationMessage& input, Timestamp /*sent_at*/) {
  auto replication = find_replication(input.replication_config_arn);
  const bool took_effect =
      replication &&
      is_one_of(replication->status, {"stopping", "stopped", "deprovisioning", "deprovisioned"});
  return answer_if(took_effect, std::move(replication), &StopReplicationResponse::replication);
}

// ---- premigration assessment runs --------------------------------------------------------------

std::optional<StartReplicationTaskAssessmentRunResponse> DmsClient::state_after_ambiguous_failure(
    const StartReplicationTaskAssessmentRunMessage& input, Timestamp /*sent_at*/) {
  // Run names are unique: a run of the task under the requested name is the one this call made.
  DescribeReplicationTaskAssessmentRunsMessage request;
  request.filters = {filter("replication-task-arn", input.replication_task_arn)};
  std::optional<ReplicationTaskAssessmentRun> found;
  try {
    for (auto& run : describe_replication_task_assessment_runs(request)
                         .replication_task_assessment_runs.value_or(
                             std::vector<ReplicationTaskAssessmentRun>{})) {
      if (run.assessment_run_name == input.assessment_run_name) found = std::move(run);
    }
  } catch (const aws::ServiceError& e) {
    if (e.code() != "ResourceNotFoundFault") throw;
  }
  const bool took_effect = found.has_value();
  return answer_if(took_effect, std::move(found),
                   &StartReplicationTaskAssessmentRunResponse::replication_task_assessment_run);
}

// ---- tags --------------------------------------------------------------------------------------

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

}  // namespace dagster_dms::dms
