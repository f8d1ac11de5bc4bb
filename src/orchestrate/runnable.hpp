#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dms/dms_client.hpp"
#include "orchestrate/task_verdict.hpp"

namespace dagster_dms::orchestrate {

struct RunOptions;

// How the runner reads and drives one kind of DMS resource that runs a migration: a replication
// task (StartReplicationTask) or a serverless replication (StartReplication). Everything the
// runner decides (start type, verdict, backoff, cancellation) is written once in runner.cpp;
// these say only how to talk to the API about that kind and how to read its record.
template <class Resource>
struct Runnable;

template <>
struct Runnable<dms::ReplicationTask> {
  static constexpr std::string_view kNoun = "replication task";
  // The task with this ARN, or with this identifier when `task` is not an ARN.
  static dms::ReplicationTask describe(dms::DmsClient& client, const std::string& task);
  static std::optional<dms::ReplicationTask> start(dms::DmsClient& client, const std::string& arn,
                                                   const std::string& start_type,
                                                   const RunOptions& options);
  static std::optional<dms::ReplicationTask> stop(dms::DmsClient& client, const std::string& arn);
  static std::string arn(const dms::ReplicationTask& task);
  static std::string identifier(const dms::ReplicationTask& task);
  static std::string failure_message(const dms::ReplicationTask& task);
  static bool ever_ran(const dms::ReplicationTask& task);
  static TaskSnapshot snapshot(const dms::ReplicationTask& task);
};

template <>
struct Runnable<dms::Replication> {
  static constexpr std::string_view kNoun = "serverless replication";
  // The replication of the config with this ARN, or with this identifier.
  static dms::Replication describe(dms::DmsClient& client, const std::string& config);
  static std::optional<dms::Replication> start(dms::DmsClient& client, const std::string& arn,
                                               const std::string& start_type,
                                               const RunOptions& options);
  static std::optional<dms::Replication> stop(dms::DmsClient& client, const std::string& arn);
  static std::string arn(const dms::Replication& replication);
  static std::string identifier(const dms::Replication& replication);
  static std::string failure_message(const dms::Replication& replication);
  static bool ever_ran(const dms::Replication& replication);
  // A serverless replication has more statuses than a task (provisioning steps, `created`);
  // they are read as the task status they mean, so one verdict serves both.
  static TaskSnapshot snapshot(const dms::Replication& replication);
};

}  // namespace dagster_dms::orchestrate
