#include "orchestrate/runner.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "aws/errors.hpp"

namespace dagster_dms::orchestrate {
namespace {

using std::chrono::milliseconds;

std::chrono::milliseconds since(aws::Clock& clock, aws::TimePoint start) {
  return std::chrono::duration_cast<milliseconds>(clock.now() - start);
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

template <class Resource>
std::string describe_end(const Resource& resource, TaskPhase phase) {
  using R = Runnable<Resource>;
  const TaskSnapshot snapshot = R::snapshot(resource);
  const std::string id = R::identifier(resource);
  const std::string reason = std::string(stop_reason_code(snapshot.stop_reason));
  switch (phase) {
    case TaskPhase::kSucceeded:
      return fmt::format("{} finished: stopped with {}", id, reason);
    case TaskPhase::kReplicating:
      return fmt::format("{} is running and replicating changes (CDC)", id);
    case TaskPhase::kStoppedByUser:
      return fmt::format("{} was stopped (Stop Reason NORMAL) before it finished", id);
    case TaskPhase::kFailed: {
      std::string message = fmt::format("{} failed: status {}", id, snapshot.status);
      if (!reason.empty()) message += fmt::format(", stop reason {}", reason);
      const std::string failure = R::failure_message(resource);
      if (!failure.empty()) message += fmt::format(": {}", failure);
      return message;
    }
    default:
      return fmt::format("{} is {}", id, snapshot.status);
  }
}

template <class Resource>
Progress progress_of(const Resource& resource, milliseconds waited) {
  using R = Runnable<Resource>;
  return progress_of(R::snapshot(resource), R::identifier(resource), waited);
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

Progress progress_of(const TaskSnapshot& snapshot, const std::string& identifier,
                     milliseconds waited) {
  Progress progress;
  progress.status = snapshot.status.empty() ? "unknown" : snapshot.status;
  progress.phase = judge(snapshot);
  progress.waited = waited;
  progress.percent = snapshot.full_load_progress_percent;
  progress.tables_loaded = snapshot.tables_loaded.value_or(0);
  progress.tables_loading = snapshot.tables_loading.value_or(0);
  progress.tables_queued = snapshot.tables_queued.value_or(0);
  progress.tables_errored = snapshot.tables_errored.value_or(0);
  progress.message = fmt::format(
      "{}: {} {}% tables loaded {}, loading {}, queued {}, errored {} ({} s)", identifier,
      progress.status, progress.percent ? std::to_string(*progress.percent) : std::string("-"),
      progress.tables_loaded, progress.tables_loading, progress.tables_queued,
      progress.tables_errored, waited.count() / 1000);
  return progress;
}

template <class Resource>
std::string effective_start_type(const Resource& resource, const std::string& requested,
                                 std::string* reason) {
  using R = Runnable<Resource>;
  auto explain = [&](std::string text) {
    if (reason != nullptr) *reason = std::move(text);
  };
  if (!R::ever_ran(resource)) {
    // There is no stop position to continue from: guessing a full load here could copy a
    // large source the user meant to resume, so say so instead.
    if (requested == "resume-processing") {
      throw aws::ConfigError(fmt::format(
          "{} {} has never run, so there is nothing to resume: resume-processing continues a "
          "previous run; use start-replication for its first run",
          R::kNoun, R::identifier(resource)));
    }
    if (requested != "start-replication") {
      explain(fmt::format("the {} has never run, so {} is not valid; sent start-replication",
                          R::kNoun, requested));
    }
    return "start-replication";
  }
  if (requested == "start-replication") {
    const bool full_load_only = R::snapshot(resource).migration_type == "full-load";
    const std::string type = full_load_only ? "reload-target" : "resume-processing";
    explain(fmt::format(
        "the {} ran before, and start-replication is valid only on a first run; sent {} ({})",
        R::kNoun, type,
        full_load_only ? "load the tables again" : "continue from the last stop position"));
    return type;
  }
  return requested;
}

template <class Resource>
Resource Runner<Resource>::describe(const std::string& id_or_arn) {
  return Runnable<Resource>::describe(client_, id_or_arn);
}

template <class Resource>
void Runner<Resource>::sleep_interruptibly(milliseconds duration, const CancelCheck& cancelled) {
  // Sleep in slices so a cancellation (Dagster terminating the run) is seen within a second.
  constexpr milliseconds kSlice{250};
  while (duration.count() > 0) {
    if (cancelled && cancelled()) return;
    const milliseconds step = std::min(duration, kSlice);
    clock_.sleep_for(step);
    duration -= step;
  }
}

template <class Resource>
typename Runner<Resource>::Result Runner<Resource>::run(const std::string& id_or_arn,
                                                        const RunOptions& options,
                                                        const ProgressCallback& on_progress,
                                                        const CancelCheck& cancelled) {
  using R = Runnable<Resource>;
  const aws::TimePoint started_at = clock_.now();
  Result result;
  Resource resource = describe(id_or_arn);
  const std::string arn = R::arn(resource).empty() ? id_or_arn : R::arn(resource);

  // A resource in a transitional state is waited out before deciding what to send.
  for (;;) {
    const std::string status = R::snapshot(resource).status;
    if (status != "creating" && status != "modifying" && status != "stopping" &&
        status != "moving" && status != "testing") {
      break;
    }
    if (since(clock_, started_at) > options.start_timeout) {
      result.outcome = RunOutcome::kTimedOut;
      result.resource = resource;
      result.message =
          fmt::format("{} stayed {} for longer than the start timeout ({} s)",
                      R::identifier(resource), status, options.start_timeout.count() / 1000);
      return result;
    }
    if (on_progress) on_progress(progress_of(resource, since(clock_, started_at)));
    sleep_interruptibly(options.poll_interval_min, cancelled);
    if (cancelled && cancelled()) {
      result.outcome = RunOutcome::kCancelled;
      result.resource = resource;
      result.message = fmt::format("cancelled before the {} was started", R::kNoun);
      return result;
    }
    resource = describe(arn);
  }

  const std::string status = R::snapshot(resource).status;
  if (status == "starting" || status == "running") {
    result.notes.push_back(fmt::format(
        "the {} was already {}; waited for it instead of starting it", R::kNoun, status));
  } else {
    std::string reason;
    const std::string type = effective_start_type(resource, options.start_type, &reason);
    if (!reason.empty()) result.notes.push_back(reason);
    try {
      if (auto answered = R::start(client_, arn, type, options)) resource = std::move(*answered);
      result.started = true;
      result.start_type_sent = type;
    } catch (const aws::ServiceError& e) {
      // Someone else started it between our describe and our start: wait for that run.
      if (e.code() != "InvalidResourceStateFault") throw;
      resource = describe(arn);
      const std::string now = R::snapshot(resource).status;
      if (now != "starting" && now != "running") throw;
      result.notes.push_back(
          fmt::format("the {} was started by someone else meanwhile; waited for it", R::kNoun));
    }
  }
  return wait_for(arn, options, std::move(result), started_at, on_progress, cancelled);
}

template <class Resource>
typename Runner<Resource>::Result Runner<Resource>::wait(const std::string& id_or_arn,
                                                         const RunOptions& options,
                                                         const ProgressCallback& on_progress,
                                                         const CancelCheck& cancelled) {
  const Resource resource = describe(id_or_arn);
  const std::string arn = Runnable<Resource>::arn(resource);
  return wait_for(arn.empty() ? id_or_arn : arn, options, Result{}, clock_.now(), on_progress,
                  cancelled);
}

template <class Resource>
typename Runner<Resource>::Result Runner<Resource>::wait_for(
    const std::string& arn, const RunOptions& options, Result result, aws::TimePoint since_start,
    const ProgressCallback& on_progress, const CancelCheck& cancelled) {
  using R = Runnable<Resource>;
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
        Result stopped = stop(arn, true, stop_options, on_progress, {});
        result.resource = stopped.resource;
        result.message = fmt::format("cancelled; the {} was stopped", R::kNoun);
      } else {
        result.resource = describe(arn);
        result.message = fmt::format("cancelled; the {} was left as it is", R::kNoun);
      }
      result.phase = judge(R::snapshot(result.resource));
      return result;
    }
    Resource resource = describe(arn);
    const TaskSnapshot snapshot = R::snapshot(resource);
    const TaskPhase phase = judge(snapshot);
    Progress progress = progress_of(snapshot, R::identifier(resource), waited);
    if (on_progress) on_progress(progress);
    result.resource = resource;
    result.phase = phase;
    result.waited = waited;
    if (snapshot.status != "starting") left_starting = true;

    if (goal_reached(options.goal, phase, snapshot)) {
      result.outcome =
          goal_success(options.goal, phase) ? RunOutcome::kSucceeded : RunOutcome::kFailed;
      result.message = describe_end(resource, phase);
      return result;
    }
    if (phase == TaskPhase::kNotStarted && result.started && waited > options.start_timeout) {
      result.outcome = RunOutcome::kFailed;
      result.message = describe_end(resource, phase) + " although it was started";
      return result;
    }
    if (!left_starting && waited > options.start_timeout) {
      result.outcome = RunOutcome::kTimedOut;
      result.message = fmt::format("{} did not leave 'starting' within the start timeout ({} s)",
                                   R::identifier(resource), options.start_timeout.count() / 1000);
      return result;
    }
    if (options.completion_timeout && waited > *options.completion_timeout) {
      result.outcome = RunOutcome::kTimedOut;
      result.message = fmt::format("{} did not finish within the completion timeout ({} s): {}",
                                   R::identifier(resource),
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

template <class Resource>
typename Runner<Resource>::Result Runner<Resource>::stop(const std::string& id_or_arn, bool wait,
                                                         const RunOptions& options,
                                                         const ProgressCallback& on_progress,
                                                         const CancelCheck& cancelled) {
  using R = Runnable<Resource>;
  const aws::TimePoint started_at = clock_.now();
  Result result;
  Resource current = describe(id_or_arn);
  const std::string arn = R::arn(current).empty() ? id_or_arn : R::arn(current);
  const std::string status = R::snapshot(current).status;
  if (status == "running" || status == "starting") {
    if (auto answered = R::stop(client_, arn)) current = std::move(*answered);
  } else if (status != "stopping") {
    result.notes.push_back(fmt::format("the {} was {}; nothing to stop", R::kNoun, status));
    result.resource = current;
    result.phase = judge(R::snapshot(current));
    result.outcome = RunOutcome::kSucceeded;
    result.message = describe_end(current, result.phase);
    return result;
  }
  result.resource = current;
  result.phase = judge(R::snapshot(current));
  if (!wait) {
    result.outcome = RunOutcome::kSucceeded;
    const std::string now = R::snapshot(current).status;
    result.message =
        fmt::format("{} is {}", R::identifier(current), now.empty() ? "stopping" : now);
    return result;
  }
  RunOptions stop_options = options;
  stop_options.goal = WaitGoal::kStopped;
  // A cancelled wait for a stop leaves the stop request in place; there is nothing to undo.
  stop_options.stop_on_cancel = false;
  return wait_for(arn, stop_options, std::move(result), started_at, on_progress, cancelled);
}

template std::string effective_start_type(const dms::ReplicationTask&, const std::string&,
                                          std::string*);
template std::string effective_start_type(const dms::Replication&, const std::string&,
                                          std::string*);
template class Runner<dms::ReplicationTask>;
template class Runner<dms::Replication>;

}  // namespace dagster_dms::orchestrate
