#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/dms_api/control_plane.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/run_lifecycle.hpp"

namespace dagster_dms::server {

// Where a replication task keeps its runs: its own document (Status, StopReason,
// LastFailureMessage, ReplicationTaskStats, RecoveryCheckpoint). See run_lifecycle.hpp.
struct TaskRunShape : RunShapeDefaults {
  using Status = TaskStatus;
  static constexpr ResourceKind kKind = ResourceKind::kTask;
  static constexpr std::string_view kNoun = "task";
  static constexpr const char* kStatsMember = "ReplicationTaskStats";

  static std::string what(const Record& task);
  static nlohmann::json& run_state(Record& task) { return task.doc; }
  static bool can_start(TaskStatus status);
  static void clear_failure(nlohmann::json& state) { state.erase("LastFailureMessage"); }
  static void record_failure(nlohmann::json& state, const std::string& message);
  static void record_checkpoint(Record& task, const std::string& recovery_checkpoint);
  static void hand_over(Record& task, const nlohmann::json& now);
  // The task with its endpoints and their passwords, as a data plane needs it.
  static TaskRun run_of(const Store& store, const Record& task);
};

// The EngineName of a task's source endpoint (empty when it is gone).
std::string source_engine_of(const Store& store, const Record& task);

}  // namespace dagster_dms::server
