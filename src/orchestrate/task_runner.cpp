#include "orchestrate/task_runner.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "aws/errors.hpp"

namespace dagster_dms::orchestrate {
namespace {

using std::chrono::milliseconds;

bool is_arn(const std::string& text) {
  return text.starts_with("arn:");
}

std::chrono::milliseconds since(aws::Clock& clock, aws::TimePoint start) {
  return std::chrono::duration_cast<milliseconds>(clock.now() - start);
}

bool ever_ran(const dms::ReplicationTask& task) {
  if (task.replication_task_start_date) return true;
  const auto& stats = task.replication_task_stats;
  if (stats && (stats->start_date || stats->fresh_start_date || stats->stop_date)) return true;
  const std::string status = task.status.value_or("");
  return status == "stopped" || status == "failed" || status == "running" || status == "stopping";
}

bool goal_reached(WaitGoal goal, TaskPhase phase, const TaskSnapshot& snapshot) {
  switch (goal) {
    case WaitGoal::kCompletion:
      if (snapshot.migration_type == "full-load") {
        return phase == TaskPhase::kSucceeded || phase == TaskPhase::kFailed ||
               phase == TaskPhase::kStoppedByUser;
      }
      return phase == TaskPhase::kReplicating || phase == TaskPhase::kSucceeded ||
             phase == TaskPhase::kFailed || phase == TaskPhase::kStoppedByUser;
    case WaitGoal::kRunning:
      return snapshot.status == "running" || phase == TaskPhase::kSucceeded ||
             phase == TaskPhase::kFailed || phase == TaskPhase::kStoppedByUser;
    case WaitGoal::kStopped:
      return snapshot.status == "stopped" || snapshot.status == "failed";
    case WaitGoal::kFullLoadComplete:
      return phase == TaskPhase::kReplicating || phase == TaskPhase::kSucceeded ||
             phase == TaskPhase::kFailed || phase == TaskPhase::kStoppedByUser;
  }
  return false;
}

// Whether reaching the goal in this phase counts as success.
bool goal_success(WaitGoal goal, TaskPhase phase) {
  // Waiting for `stopped` succeeds once the task is stopped, whatever the reason: the message
  // still says how it ended.
  if (goal == WaitGoal::kStopped) return true;
  return phase != TaskPhase::kFailed && phase != TaskPhase::kStoppedByUser;
}

std::string describe_end(const dms::ReplicationTask& task, TaskPhase phase) {
  const std::string id = task.replication_task_identifier.value_or("task");
  const std::string status = task.status.value_or("unknown");
  const std::string reason = std::string(stop_reason_code(task.stop_reason.value_or("")));
  switch (phase) {
    case TaskPhase::kSucceeded:
      return fmt::format("{} finished: stopped with {}", id, reason);
    case TaskPhase::kReplicating:
      return fmt::format("{} is running and replicating changes (CDC)", id);
    case TaskPhase::kStoppedByUser:
      return fmt::format("{} was stopped (Stop Reason NORMAL) before it finished", id);
    case TaskPhase::kFailed: {
      std::string message = fmt::format("{} failed: status {}", id, status);
      if (!reason.empty()) message += fmt::format(", stop reason {}", reason);
      if (task.last_failure_message && !task.last_failure_message->empty()) {
        message += fmt::format(": {}", *task.last_failure_message);
      }
      return message;
    }
    default:
      return fmt::format("{} is {}", id, status);
  }
}

}  // namespace

std::string_view to_string(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kSucceeded:
      return "succeeded";
    case RunOutcome::kFailed:
      return "failed";
    case RunOutcome::kTimedOut:
      return "timed-out";
    case RunOutcome::kCancelled:
      return "cancelled";
  }
  return "failed";
}

TaskSnapshot snapshot_of(const dms::ReplicationTask& task) {
  TaskSnapshot snapshot;
  snapshot.status = task.status.value_or("");
  snapshot.stop_reason = task.stop_reason.value_or("");
  snapshot.migration_type = task.migration_type.value_or("full-load");
  if (const auto& stats = task.replication_task_stats) {
    snapshot.full_load_progress_percent = stats->full_load_progress_percent;
    snapshot.tables_loading = stats->tables_loading;
    snapshot.tables_queued = stats->tables_queued;
    snapshot.tables_errored = stats->tables_errored;
    snapshot.full_load_finished = stats->full_load_finish_date.has_value();
  }
  return snapshot;
}

Progress progress_of(const dms::ReplicationTask& task, milliseconds waited) {
  Progress progress;
  progress.status = task.status.value_or("unknown");
  progress.phase = judge(snapshot_of(task));
  progress.waited = waited;
  if (const auto& stats = task.replication_task_stats) {
    progress.percent = stats->full_load_progress_percent;
    progress.tables_loaded = stats->tables_loaded.value_or(0);
    progress.tables_loading = stats->tables_loading.value_or(0);
    progress.tables_queued = stats->tables_queued.value_or(0);
    progress.tables_errored = stats->tables_errored.value_or(0);
  }
  progress.message =
      fmt::format("{}: {} {}% tables loaded {}, loading {}, queued {}, errored {} ({} s)",
                  task.replication_task_identifier.value_or("task"), progress.status,
                  progress.percent ? std::to_string(*progress.percent) : std::string("-"),
                  progress.tables_loaded, progress.tables_loading, progress.tables_queued,
                  progress.tables_errored, waited.count() / 1000);
  return progress;
}

std::string effective_start_type(const dms::ReplicationTask& task, const std::string& requested,
                                 std::string* reason) {
  auto explain = [&](std::string text) {
    if (reason != nullptr) *reason = std::move(text);
  };
  if (!ever_ran(task)) {
    // There is no stop position to continue from: guessing a full load here could copy a
    // large source the user meant to resume, so say so instead.
    if (requested == "resume-processing") {
      throw aws::ConfigError(fmt::format(
          "task {} has never run, so there is nothing to resume: resume-processing continues a "
          "previous run; use start-replication for its first run",
          task.replication_task_identifier.value_or(task.replication_task_arn.value_or("?"))));
    }
    if (requested != "start-replication") {
      explain(fmt::format("the task has never run, so {} is not valid; sent start-replication",
                          requested));
    }
    return "start-replication";
  }
  if (requested == "start-replication") {
    const bool full_load_only = task.migration_type.value_or("full-load") == "full-load";
    const std::string type = full_load_only ? "reload-target" : "resume-processing";
    explain(fmt::format(
        "the task ran before, and start-replication is valid only on a first run; sent {} ({})",
        type, full_load_only ? "load the tables again" : "continue from the last stop position"));
    return type;
  }
  return requested;
}

dms::ReplicationTask TaskRunner::describe(const std::string& task) {
  dms::DescribeReplicationTasksMessage request;
  request.filters = std::vector<dms::Filter>{
      dms::Filter{is_arn(task) ? "replication-task-arn" : "replication-task-id", {task}, {}}};
  request.without_settings = true;
  try {
    auto response = client_.describe_replication_tasks(request);
    if (response.replication_tasks && !response.replication_tasks->empty()) {
      return response.replication_tasks->front();
    }
  } catch (const aws::ServiceError& e) {
    if (e.code() != "ResourceNotFoundFault") throw;
  }
  throw aws::ServiceError(
      "DMS", "DescribeReplicationTasks", "ResourceNotFoundFault",
      fmt::format("Replication task '{}' not found in region {}: check the identifier or ARN and "
                  "the region",
                  task, client_.rpc().session()->region()),
      400, "");
}

void TaskRunner::sleep_interruptibly(milliseconds duration, const CancelCheck& cancelled) {
  // Sleep in slices so a cancellation (Dagster terminating the run) is seen within a second.
  constexpr milliseconds kSlice{250};
  while (duration.count() > 0) {
    if (cancelled && cancelled()) return;
    const milliseconds step = std::min(duration, kSlice);
    clock_.sleep_for(step);
    duration -= step;
  }
}

RunResult TaskRunner::run(const std::string& task_arn, const RunOptions& options,
                          const ProgressCallback& on_progress, const CancelCheck& cancelled) {
  const aws::TimePoint started_at = clock_.now();
  RunResult result;
  dms::ReplicationTask task = describe(task_arn);
  const std::string arn = task.replication_task_arn.value_or(task_arn);

  // A task in a transitional state is waited out before deciding what to send.
  for (;;) {
    const std::string status = task.status.value_or("");
    if (status != "creating" && status != "modifying" && status != "stopping" &&
        status != "moving" && status != "testing") {
      break;
    }
    if (since(clock_, started_at) > options.start_timeout) {
      result.outcome = RunOutcome::kTimedOut;
      result.task = task;
      result.message = fmt::format("{} stayed {} for longer than the start timeout ({} s)",
                                   task.replication_task_identifier.value_or(arn), status,
                                   options.start_timeout.count() / 1000);
      return result;
    }
    if (on_progress) on_progress(progress_of(task, since(clock_, started_at)));
    sleep_interruptibly(options.poll_interval_min, cancelled);
    if (cancelled && cancelled()) {
      result.outcome = RunOutcome::kCancelled;
      result.task = task;
      result.message = "cancelled before the task was started";
      return result;
    }
    task = describe(arn);
  }

  const std::string status = task.status.value_or("");
  if (status == "starting" || status == "running") {
    result.notes.push_back(
        fmt::format("the task was already {}; waited for it instead of starting it", status));
  } else {
    std::string reason;
    const std::string type = effective_start_type(task, options.start_type, &reason);
    if (!reason.empty()) result.notes.push_back(reason);
    dms::StartReplicationTaskMessage request;
    request.replication_task_arn = arn;
    request.start_replication_task_type = type;
    request.cdc_start_time = options.cdc_start_time;
    request.cdc_start_position = options.cdc_start_position;
    request.cdc_stop_position = options.cdc_stop_position;
    try {
      auto response = client_.start_replication_task(request);
      if (response.replication_task) task = *response.replication_task;
      result.started = true;
      result.start_type_sent = type;
    } catch (const aws::ServiceError& e) {
      // Someone else started it between our describe and our start: wait for that run.
      if (e.code() != "InvalidResourceStateFault") throw;
      task = describe(arn);
      const std::string now = task.status.value_or("");
      if (now != "starting" && now != "running") throw;
      result.notes.push_back("the task was started by someone else meanwhile; waited for it");
    }
  }
  return wait_for(arn, options, std::move(result), started_at, on_progress, cancelled);
}

RunResult TaskRunner::wait(const std::string& task_arn, const RunOptions& options,
                           const ProgressCallback& on_progress, const CancelCheck& cancelled) {
  const dms::ReplicationTask task = describe(task_arn);
  return wait_for(task.replication_task_arn.value_or(task_arn), options, RunResult{}, clock_.now(),
                  on_progress, cancelled);
}

RunResult TaskRunner::wait_for(const std::string& task_arn, const RunOptions& options,
                               RunResult result, aws::TimePoint since_start,
                               const ProgressCallback& on_progress, const CancelCheck& cancelled) {
  milliseconds interval = options.poll_interval_min;
  std::optional<std::string> last_progress;
  bool left_starting = false;
  for (bool first = true;; first = false) {
    if (!first) {
      sleep_interruptibly(interval, cancelled);
    }
    const milliseconds waited = since(clock_, since_start);
    if (cancelled && cancelled()) {
      result.outcome = RunOutcome::kCancelled;
      result.waited = waited;
      if (options.stop_on_cancel && result.started) {
        RunOptions stop_options = options;
        stop_options.goal = WaitGoal::kStopped;
        RunResult stopped = stop(task_arn, true, stop_options, on_progress, {});
        result.task = stopped.task;
        result.message = "cancelled; the task was stopped";
      } else {
        result.task = describe(task_arn);
        result.message = "cancelled; the task was left as it is";
      }
      result.phase = judge(snapshot_of(result.task));
      return result;
    }
    dms::ReplicationTask task = describe(task_arn);
    const TaskSnapshot snapshot = snapshot_of(task);
    const TaskPhase phase = judge(snapshot);
    Progress progress = progress_of(task, waited);
    if (on_progress) on_progress(progress);
    result.task = task;
    result.phase = phase;
    result.waited = waited;
    if (snapshot.status != "starting") left_starting = true;

    if (goal_reached(options.goal, phase, snapshot)) {
      result.outcome =
          goal_success(options.goal, phase) ? RunOutcome::kSucceeded : RunOutcome::kFailed;
      result.message = describe_end(task, phase);
      return result;
    }
    if (phase == TaskPhase::kNotStarted && result.started && waited > options.start_timeout) {
      result.outcome = RunOutcome::kFailed;
      result.message = describe_end(task, phase) + " although it was started";
      return result;
    }
    if (!left_starting && waited > options.start_timeout) {
      result.outcome = RunOutcome::kTimedOut;
      result.message = fmt::format("{} did not leave 'starting' within the start timeout ({} s)",
                                   task.replication_task_identifier.value_or(task_arn),
                                   options.start_timeout.count() / 1000);
      return result;
    }
    if (options.completion_timeout && waited > *options.completion_timeout) {
      result.outcome = RunOutcome::kTimedOut;
      result.message = fmt::format("{} did not finish within the completion timeout ({} s): {}",
                                   task.replication_task_identifier.value_or(task_arn),
                                   options.completion_timeout->count() / 1000, progress.message);
      return result;
    }
    // Back off while nothing moves; poll quickly again once something changes.
    const std::string signature =
        fmt::format("{}|{}|{}|{}", progress.status, progress.percent.value_or(-1),
                    progress.tables_loaded, progress.tables_loading);
    if (last_progress && *last_progress == signature) {
      interval = std::min(options.poll_interval_max,
                          milliseconds(static_cast<long long>(interval.count() * 3 / 2)));
    } else {
      interval = options.poll_interval_min;
    }
    last_progress = signature;
  }
}

RunResult TaskRunner::stop(const std::string& task, bool wait, const RunOptions& options,
                           const ProgressCallback& on_progress, const CancelCheck& cancelled) {
  const aws::TimePoint started_at = clock_.now();
  RunResult result;
  dms::ReplicationTask current = describe(task);
  const std::string arn = current.replication_task_arn.value_or(task);
  const std::string status = current.status.value_or("");
  if (status == "running" || status == "starting") {
    dms::StopReplicationTaskMessage request;
    request.replication_task_arn = arn;
    auto response = client_.stop_replication_task(request);
    if (response.replication_task) current = *response.replication_task;
  } else if (status != "stopping") {
    result.notes.push_back(fmt::format("the task was {}; nothing to stop", status));
    result.task = current;
    result.phase = judge(snapshot_of(current));
    result.outcome = RunOutcome::kSucceeded;
    result.message = describe_end(current, result.phase);
    return result;
  }
  result.task = current;
  result.phase = judge(snapshot_of(current));
  if (!wait) {
    result.outcome = RunOutcome::kSucceeded;
    result.message = fmt::format("{} is {}", current.replication_task_identifier.value_or(arn),
                                 current.status.value_or("stopping"));
    return result;
  }
  RunOptions stop_options = options;
  stop_options.goal = WaitGoal::kStopped;
  // A cancelled wait for a stop leaves the stop request in place; there is nothing to undo.
  stop_options.stop_on_cancel = false;
  return wait_for(arn, stop_options, std::move(result), started_at, on_progress, cancelled);
}

}  // namespace dagster_dms::orchestrate
