#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/dms_api/control_plane.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/run_lifecycle.hpp"

namespace dagster_dms::server {

// Where a serverless replication keeps its runs: the Replication object stored with its config
// (internal["replication"]: Status, StopReason, FailureMessages, ReplicationStats,
// ProvisionData). created -> starting (provisioning) -> running (provisioned) -> stopped or
// failed. A run is the same run a task has: the config is handed to the task executor as a task
// whose ARN is the config's. See run_lifecycle.hpp.
struct ReplicationRunShape : RunShapeDefaults {
  using Status = ReplicationStatus;
  static constexpr ResourceKind kKind = ResourceKind::kReplicationConfig;
  static constexpr std::string_view kNoun = "replication";
  static constexpr const char* kStatsMember = "ReplicationStats";

  static std::string what(const Record& config);
  static nlohmann::json& run_state(Record& config);
  static bool can_start(ReplicationStatus status);
  static void clear_failure(nlohmann::json& state) { state.erase("FailureMessages"); }
  static void record_failure(nlohmann::json& state, const std::string& message);
  static void touch(nlohmann::json& state, const nlohmann::json& now);
  static void mark_ended(nlohmann::json& state, const nlohmann::json& now);
  // record_checkpoint: the default; serverless replications keep no RecoveryCheckpoint.
  static void hand_over(Record& config, const nlohmann::json& now);
  static void stopped_before_hand_over(nlohmann::json& state);
  // The config as the task a data plane runs, keyed by the config's ARN (which also names its
  // CDC slot), with its endpoints and their passwords.
  static TaskRun run_of(const Store& store, const Record& config);
};

// A serverless replication's public document (stored with its config).
nlohmann::json public_replication(const Record& config);

}  // namespace dagster_dms::server
