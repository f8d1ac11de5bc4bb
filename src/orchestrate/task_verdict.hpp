#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dagster_dms::orchestrate {

// How a replication task stands, judged from Status + StopReason (+ progress for CDC tasks), the
// way a user means "did my migration work". The stock waiters judge from Status alone and call a
// finished full load a failure (it is `stopped` before `running` is seen) and a FATAL_ERROR stop a
// success; this does neither.
enum class TaskPhase {
  kNotStarted,     // ready / creating / modifying: nothing is running
  kStarting,       // starting
  kLoading,        // running, full load still in progress
  kReplicating,    // running, full load done (or none): ongoing CDC
  kStopping,       // stopping
  kSucceeded,      // stopped for a reason that means the work is done
  kFailed,         // failed, or stopped for an error reason
  kStoppedByUser,  // stopped with NORMAL: someone stopped it
  kOther,          // deleting, moving, testing...: not a state a run can be judged in
};

struct TaskSnapshot {
  std::string status;          // lower case, as the API returns it
  std::string stop_reason;     // "Stop Reason FULL_LOAD_ONLY_FINISHED" or empty
  std::string migration_type;  // full-load | cdc | full-load-and-cdc
  std::optional<long long> full_load_progress_percent;
  std::optional<long long> tables_loading;
  std::optional<long long> tables_queued;
  std::optional<long long> tables_errored;
  std::optional<bool> full_load_finished;  // FullLoadFinishDate is set
  std::optional<long long> tables_loaded;
};

// The stop reason without its "Stop Reason " prefix: "FULL_LOAD_ONLY_FINISHED".
std::string_view stop_reason_code(std::string_view stop_reason);

TaskPhase judge(const TaskSnapshot& snapshot);

// True for stop reasons that mean the task did what it was configured to do.
bool is_success_stop_reason(std::string_view stop_reason);

std::string_view to_string(TaskPhase phase);

}  // namespace dagster_dms::orchestrate
