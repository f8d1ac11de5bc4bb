#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "dms/dms_client.hpp"
#include "orchestrate/runnable.hpp"
#include "orchestrate/task_verdict.hpp"

namespace dagster_dms::orchestrate {

// What a wait is waiting for.
enum class WaitGoal {
  kCompletion,        // full-load: the load finished; cdc / full-load-and-cdc: replicating
  kRunning,           // `running` seen (a full load that already finished also counts)
  kStopped,           // `stopped` or `failed`
  kFullLoadComplete,  // every table loaded (the task may go on replicating)
};

struct RunOptions {
  // start-replication | resume-processing | reload-target; see TaskRunner::run for how a
  // previous run changes the type actually sent.
  std::string start_type = "start-replication";
  std::optional<dms::Timestamp> cdc_start_time;
  std::optional<std::string> cdc_start_position;
  std::optional<std::string> cdc_stop_position;
  WaitGoal goal = WaitGoal::kCompletion;
  // From the start request until the task has left `starting`.
  std::chrono::milliseconds start_timeout{std::chrono::minutes(10)};
  // From the start request until the goal; none by default (long loads are normal).
  std::optional<std::chrono::milliseconds> completion_timeout;
  std::chrono::milliseconds poll_interval_min{std::chrono::seconds(5)};
  std::chrono::milliseconds poll_interval_max{std::chrono::seconds(30)};
  // On cancellation, stop the task we started (and wait for `stopped`).
  bool stop_on_cancel = true;
};

// What a progress callback sees on every poll.
struct Progress {
  std::string status;
  TaskPhase phase = TaskPhase::kOther;
  std::optional<long long> percent;
  long long tables_loaded = 0;
  long long tables_loading = 0;
  long long tables_queued = 0;
  long long tables_errored = 0;
  std::chrono::milliseconds waited{0};
  std::string message;  // one line a person can read
};

enum class RunOutcome { kSucceeded, kFailed, kTimedOut, kCancelled };
std::string_view to_string(RunOutcome outcome);

// How one run ended. `Resource` is dms::ReplicationTask or dms::Replication.
template <class Resource>
struct BasicRunResult {
  RunOutcome outcome = RunOutcome::kFailed;
  TaskPhase phase = TaskPhase::kOther;
  Resource resource;     // as last seen
  bool started = false;  // whether this run sent a start request
  std::string start_type_sent;
  std::string message;             // why it ended, for people
  std::vector<std::string> notes;  // decisions worth telling the user about
  std::chrono::milliseconds waited{0};
};

using ProgressCallback = std::function<void(const Progress&)>;
using CancelCheck = std::function<bool()>;

// Starts a replication task or a serverless replication (or decides not to), waits for it the
// right way and judges the end from Status + StopReason. Poll intervals back off from
// poll_interval_min to poll_interval_max while nothing changes, and reset when progress moves.
template <class Resource>
class Runner {
 public:
  using Result = BasicRunResult<Resource>;

  Runner(dms::DmsClient& client, aws::Clock& clock) : client_(client), clock_(clock) {}

  // Start types follow DMS's rules: a resource that has never run gets start-replication
  // whatever was asked (the others are invalid on a first run); one that ran before and is asked
  // for start-replication gets reload-target for full-load migrations (run the load again) and
  // resume-processing for CDC (continue where it stopped). One already starting or running is
  // not started again: the run waits for it.
  Result run(const std::string& arn, const RunOptions& options,
             const ProgressCallback& on_progress = {}, const CancelCheck& cancelled = {});

  // Waits for `options.goal` without starting anything.
  Result wait(const std::string& arn, const RunOptions& options,
              const ProgressCallback& on_progress = {}, const CancelCheck& cancelled = {});

  // Stops the resource if it is running or starting; with `wait`, waits until it has stopped.
  Result stop(const std::string& arn, bool wait, const RunOptions& options,
              const ProgressCallback& on_progress = {}, const CancelCheck& cancelled = {});

  // The resource with this ARN, or with this identifier when it is not an ARN.
  Resource describe(const std::string& id_or_arn);

 private:
  Result wait_for(const std::string& arn, const RunOptions& options, Result result,
                  aws::TimePoint since, const ProgressCallback& on_progress,
                  const CancelCheck& cancelled);
  void sleep_interruptibly(std::chrono::milliseconds duration, const CancelCheck& cancelled);

  dms::DmsClient& client_;
  aws::Clock& clock_;
};

extern template class Runner<dms::ReplicationTask>;
extern template class Runner<dms::Replication>;

using TaskRunner = Runner<dms::ReplicationTask>;
using ReplicationRunner = Runner<dms::Replication>;
using RunResult = BasicRunResult<dms::ReplicationTask>;
using ReplicationRunResult = BasicRunResult<dms::Replication>;

template <class Resource>
TaskSnapshot snapshot_of(const Resource& resource) {
  return Runnable<Resource>::snapshot(resource);
}

Progress progress_of(const TaskSnapshot& snapshot, const std::string& identifier,
                     std::chrono::milliseconds waited);

// The effective start type for a resource in its current state (see Runner::run).
template <class Resource>
std::string effective_start_type(const Resource& resource, const std::string& requested,
                                 std::string* reason);

}  // namespace dagster_dms::orchestrate
