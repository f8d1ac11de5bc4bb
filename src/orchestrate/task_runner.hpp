#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "dms/dms_client.hpp"
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

struct RunResult {
  RunOutcome outcome = RunOutcome::kFailed;
  TaskPhase phase = TaskPhase::kOther;
  dms::ReplicationTask task;  // as last seen
  bool started = false;       // whether this run sent a start request
  std::string start_type_sent;
  std::string message;        // why it ended, for people
  std::vector<std::string> notes;  // decisions worth telling the user about
  std::chrono::milliseconds waited{0};
};

using ProgressCallback = std::function<void(const Progress&)>;
using CancelCheck = std::function<bool()>;

// Starts a replication task (or decides not to), waits for it the right way and judges the end
// from Status + StopReason. Poll intervals back off from poll_interval_min to poll_interval_max
// while nothing changes, and reset when progress moves.
class TaskRunner {
 public:
  TaskRunner(dms::DmsClient& client, aws::Clock& clock) : client_(client), clock_(clock) {}

  // Start types follow DMS's rules: a task that has never run gets start-replication whatever was
  // asked (the others are invalid on a first run); a task that ran before and is asked for
  // start-replication gets reload-target for full-load tasks (run the load again) and
  // resume-processing for CDC tasks (continue where it stopped). A task already starting or
  // running is not started again: the run waits for it.
  RunResult run(const std::string& task_arn, const RunOptions& options,
                const ProgressCallback& on_progress = {}, const CancelCheck& cancelled = {});

  // Waits for `options.goal` without starting anything.
  RunResult wait(const std::string& task_arn, const RunOptions& options,
                 const ProgressCallback& on_progress = {}, const CancelCheck& cancelled = {});

  // Stops the task if it is running or starting; with `wait`, waits until it has stopped.
  RunResult stop(const std::string& task_arn, bool wait, const RunOptions& options,
                 const ProgressCallback& on_progress = {}, const CancelCheck& cancelled = {});

  // The task with this ARN, or with this identifier when `task` is not an ARN.
  dms::ReplicationTask describe(const std::string& task);

 private:
  RunResult wait_for(const std::string& task_arn, const RunOptions& options, RunResult result,
                     aws::TimePoint since, const ProgressCallback& on_progress,
                     const CancelCheck& cancelled);
  void sleep_interruptibly(std::chrono::milliseconds duration, const CancelCheck& cancelled);

  dms::DmsClient& client_;
  aws::Clock& clock_;
};

TaskSnapshot snapshot_of(const dms::ReplicationTask& task);
Progress progress_of(const dms::ReplicationTask& task, std::chrono::milliseconds waited);

// The effective start type for a task in its current state (see TaskRunner::run).
std::string effective_start_type(const dms::ReplicationTask& task, const std::string& requested,
                                 std::string* reason);

}  // namespace dagster_dms::orchestrate
