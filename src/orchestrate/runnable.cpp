#include "orchestrate/runnable.hpp"

#include <fmt/format.h>

#include "aws/errors.hpp"
#include "orchestrate/runner.hpp"

namespace dagster_dms::orchestrate {
namespace {

bool is_arn(const std::string& text) {
  return text.starts_with("arn:");
}

[[noreturn]] void throw_not_found(dms::DmsClient& client, std::string_view operation,
                                  std::string_view noun, const std::string& id_or_arn) {
  throw aws::ServiceError(
      "DMS", std::string(operation), "ResourceNotFoundFault",
      fmt::format("{} '{}' not found in region {}: check the identifier or ARN and the region",
                  noun, id_or_arn, client.rpc().session()->region()),
      400, "");
}

template <class Stats>
void read_stats(const std::optional<Stats>& stats, TaskSnapshot& snapshot) {
  if (!stats) return;
  snapshot.full_load_progress_percent = stats->full_load_progress_percent;
  snapshot.tables_loaded = stats->tables_loaded;
  snapshot.tables_loading = stats->tables_loading;
  snapshot.tables_queued = stats->tables_queued;
  snapshot.tables_errored = stats->tables_errored;
  snapshot.full_load_finished = stats->full_load_finish_date.has_value();
}

}  // namespace

// ---- replication tasks -------------------------------------------------------------------------

dms::ReplicationTask Runnable<dms::ReplicationTask>::describe(dms::DmsClient& client,
                                                              const std::string& task) {
  dms::DescribeReplicationTasksMessage request;
  request.filters = std::vector<dms::Filter>{
      dms::Filter{is_arn(task) ? "replication-task-arn" : "replication-task-id", {task}, {}}};
  request.without_settings = true;
  try {
    auto response = client.describe_replication_tasks(request);
    if (response.replication_tasks && !response.replication_tasks->empty()) {
      return response.replication_tasks->front();
    }
  } catch (const aws::ServiceError& e) {
    if (e.code() != "ResourceNotFoundFault") throw;
  }
  throw_not_found(client, "DescribeReplicationTasks", "Replication task", task);
}

std::optional<dms::ReplicationTask> Runnable<dms::ReplicationTask>::start(
    dms::DmsClient& client, const std::string& arn, const std::string& start_type,
    const RunOptions& options) {
  dms::StartReplicationTaskMessage request;
  request.replication_task_arn = arn;
  request.start_replication_task_type = start_type;
  request.cdc_start_time = options.cdc_start_time;
  request.cdc_start_position = options.cdc_start_position;
  request.cdc_stop_position = options.cdc_stop_position;
  return client.start_replication_task(request).replication_task;
}

std::optional<dms::ReplicationTask> Runnable<dms::ReplicationTask>::stop(dms::DmsClient& client,
                                                                         const std::string& arn) {
  dms::StopReplicationTaskMessage request;
  request.replication_task_arn = arn;
  return client.stop_replication_task(request).replication_task;
}

std::string Runnable<dms::ReplicationTask>::arn(const dms::ReplicationTask& task) {
  return task.replication_task_arn.value_or("");
}

std::string Runnable<dms::ReplicationTask>::identifier(const dms::ReplicationTask& task) {
  return task.replication_task_identifier.value_or(task.replication_task_arn.value_or("task"));
}

std::string Runnable<dms::ReplicationTask>::failure_message(const dms::ReplicationTask& task) {
  return task.last_failure_message.value_or("");
}

bool Runnable<dms::ReplicationTask>::ever_ran(const dms::ReplicationTask& task) {
  if (task.replication_task_start_date) return true;
  const auto& stats = task.replication_task_stats;
  if (stats && (stats->start_date || stats->fresh_start_date || stats->stop_date)) return true;
  const std::string status = task.status.value_or("");
  return status == "stopped" || status == "failed" || status == "running" || status == "stopping";
}

TaskSnapshot Runnable<dms::ReplicationTask>::snapshot(const dms::ReplicationTask& task) {
  TaskSnapshot snapshot;
  snapshot.status = task.status.value_or("");
  snapshot.stop_reason = task.stop_reason.value_or("");
  snapshot.migration_type = task.migration_type.value_or("full-load");
  read_stats(task.replication_task_stats, snapshot);
  return snapshot;
}

// ---- serverless replications -------------------------------------------------------------------

dms::Replication Runnable<dms::Replication>::describe(dms::DmsClient& client,
                                                      const std::string& config) {
  dms::DescribeReplicationsMessage request;
  request.filters = std::vector<dms::Filter>{dms::Filter{
      is_arn(config) ? "replication-config-arn" : "replication-config-id", {config}, {}}};
  try {
    auto response = client.describe_replications(request);
    if (response.replications && !response.replications->empty()) {
      return response.replications->front();
    }
  } catch (const aws::ServiceError& e) {
    if (e.code() != "ResourceNotFoundFault") throw;
  }
  throw_not_found(client, "DescribeReplications", "Serverless replication", config);
}

std::optional<dms::Replication> Runnable<dms::Replication>::start(dms::DmsClient& client,
                                                                  const std::string& arn,
                                                                  const std::string& start_type,
                                                                  const RunOptions& options) {
  dms::StartReplicationMessage request;
  request.replication_config_arn = arn;
  request.start_replication_type = start_type;
  request.cdc_start_time = options.cdc_start_time;
  request.cdc_start_position = options.cdc_start_position;
  request.cdc_stop_position = options.cdc_stop_position;
  return client.start_replication(request).replication;
}

std::optional<dms::Replication> Runnable<dms::Replication>::stop(dms::DmsClient& client,
                                                                 const std::string& arn) {
  dms::StopReplicationMessage request;
  request.replication_config_arn = arn;
  return client.stop_replication(request).replication;
}

std::string Runnable<dms::Replication>::arn(const dms::Replication& replication) {
  return replication.replication_config_arn.value_or("");
}

std::string Runnable<dms::Replication>::identifier(const dms::Replication& replication) {
  return replication.replication_config_identifier.value_or(
      replication.replication_config_arn.value_or("replication"));
}

std::string Runnable<dms::Replication>::failure_message(const dms::Replication& replication) {
  if (!replication.failure_messages) return "";
  std::string joined;
  for (const auto& message : *replication.failure_messages) {
    if (message.empty()) continue;
    if (!joined.empty()) joined += "; ";
    joined += message;
  }
  return joined;
}

bool Runnable<dms::Replication>::ever_ran(const dms::Replication& replication) {
  if (replication.replication_last_stop_time) return true;
  const auto& stats = replication.replication_stats;
  return stats && (stats->start_date || stats->fresh_start_date || stats->stop_date);
}

TaskSnapshot Runnable<dms::Replication>::snapshot(const dms::Replication& replication) {
  TaskSnapshot snapshot;
  const std::string status = replication.status.value_or("");
  // Statuses a task also has keep their meaning. `created` is a config that never ran; the
  // provisioning steps in between (initializing, preparing_metadata_resources,
  // calculating_capacity, provisioning_capacity, replication_starting, ...) are a start in
  // progress; and DMS spells failures several ways (failed, ..._failed, error).
  if (status == "running" || status == "stopped" || status == "stopping" || status == "failed" ||
      status == "starting" || status == "deleting") {
    snapshot.status = status;
  } else if (status == "created" || status.empty()) {
    snapshot.status = "ready";
  } else if (status.find("fail") != std::string::npos ||
             status.find("error") != std::string::npos) {
    snapshot.status = "failed";
  } else if (status.starts_with("deprovision")) {
    // Capacity is released after a run ends; the run's own end (stopped + reason) was reported
    // before, and the reason is still there.
    snapshot.status = "stopped";
  } else {
    snapshot.status = "starting";
  }
  snapshot.stop_reason = replication.stop_reason.value_or("");
  snapshot.migration_type = replication.replication_type.value_or("full-load");
  read_stats(replication.replication_stats, snapshot);
  return snapshot;
}

}  // namespace dagster_dms::orchestrate
