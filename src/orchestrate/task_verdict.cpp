#include "orchestrate/task_verdict.hpp"

#include <array>

namespace dagster_dms::orchestrate {

std::string_view stop_reason_code(std::string_view stop_reason) {
  constexpr std::string_view kPrefix = "Stop Reason ";
  if (stop_reason.starts_with(kPrefix)) stop_reason.remove_prefix(kPrefix.size());
  return stop_reason;
}

bool is_success_stop_reason(std::string_view stop_reason) {
  // These reasons are reached by the task's own configuration: a full-load-only task finishing,
  // StopTaskCachedChangesApplied/NotApplied, or a CDC stop position / time being reached.
  static constexpr std::array<std::string_view, 6> kSuccess = {
      "FULL_LOAD_ONLY_FINISHED", "STOPPED_AFTER_FULL_LOAD", "STOPPED_AFTER_CACHED_EVENTS",
      "STOPPED_AFTER_DDL_APPLY", "STOPPED_AT_SERVER_TIME",  "STOPPED_AT_COMMIT_TIME"};
  const std::string_view code = stop_reason_code(stop_reason);
  for (auto reason : kSuccess) {
    if (code == reason) return true;
  }
  return false;
}

TaskPhase judge(const TaskSnapshot& s) {
  if (s.status == "ready" || s.status == "creating" || s.status == "modifying") {
    return TaskPhase::kNotStarted;
  }
  if (s.status == "starting") return TaskPhase::kStarting;
  if (s.status == "stopping") return TaskPhase::kStopping;
  if (s.status == "failed") return TaskPhase::kFailed;
  if (s.status == "stopped") {
    if (is_success_stop_reason(s.stop_reason)) return TaskPhase::kSucceeded;
    // NORMAL is a requested stop; no reason at all says nothing went wrong either (AWS always
    // sets one, some emulators never do).
    const std::string_view code = stop_reason_code(s.stop_reason);
    if (code == "NORMAL" || code.empty()) return TaskPhase::kStoppedByUser;
    return TaskPhase::kFailed;
  }
  if (s.status == "running") {
    if (s.migration_type == "cdc") return TaskPhase::kReplicating;
    const bool load_done = s.full_load_finished.value_or(false) ||
                           (s.full_load_progress_percent.value_or(0) >= 100 &&
                            s.tables_loading.value_or(0) == 0 && s.tables_queued.value_or(0) == 0);
    if (s.migration_type == "full-load-and-cdc" && load_done) return TaskPhase::kReplicating;
    return TaskPhase::kLoading;
  }
  return TaskPhase::kOther;
}

std::string_view to_string(TaskPhase phase) {
  switch (phase) {
    case TaskPhase::kNotStarted:
      return "not-started";
    case TaskPhase::kStarting:
      return "starting";
    case TaskPhase::kLoading:
      return "loading";
    case TaskPhase::kReplicating:
      return "replicating";
    case TaskPhase::kStopping:
      return "stopping";
    case TaskPhase::kSucceeded:
      return "succeeded";
    case TaskPhase::kFailed:
      return "failed";
    case TaskPhase::kStoppedByUser:
      return "stopped-by-user";
    case TaskPhase::kOther:
      return "other";
  }
  return "other";
}

}  // namespace dagster_dms::orchestrate
