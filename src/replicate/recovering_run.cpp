#include "replicate/recovering_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "replicate/stoppable_wait.hpp"
#include "replicate/task_settings.hpp"

namespace dagster_dms::replicate {

namespace {

// The policy the task's settings give; the defaults when they do not parse (the run itself
// then fails and says why).
RecoverableErrorPolicy policy_of(const std::string& task_settings) {
  try {
    return parse_full_load_settings(task_settings).recoverable;
  } catch (const std::exception&) {
    return parse_full_load_settings("").recoverable;
  }
}

std::string count_setting(const RecoverableErrorPolicy& policy) {
  return policy.count < 0 ? std::string("-1, no limit") : std::to_string(policy.count);
}

// Decides what follows a failed attempt: the wait before the next one (logged), or nullopt
// with `message` saying why the run gives up.
class RetryDecider {
 public:
  RetryDecider(const std::string& task_settings, FullLoadObserver& observer)
      : policy_(policy_of(task_settings)), schedule_(policy_), observer_(observer) {}

  // `starting`: the run is in its first attempt and has got nowhere yet. `progressed`: this
  // attempt got somewhere (the series of waits starts over).
  std::optional<std::chrono::seconds> after(ErrorKind& kind, std::string& message, bool starting,
                                            bool progressed) {
    if (kind == ErrorKind::kFatal) return std::nullopt;
    if (starting && kind == ErrorKind::kCannotConnect) {
      // The database was never reached: a wrong endpoint, not a restart.
      kind = ErrorKind::kFatal;
      return std::nullopt;
    }
    if (progressed) schedule_.reset();
    const auto wait = schedule_.next();
    if (!wait) {
      message = fmt::format("{} {}", message, give_up_reason());
      return std::nullopt;
    }
    observer_.on_log(
        LogSeverity::kWarning, "TASK_MANAGER",
        fmt::format("Recoverable error: {} Retry {} in {} s (ErrorBehavior.RecoverableErrorCount "
                    "{}).",
                    message, schedule_.retries(), wait->count(), count_setting(policy_)));
    return wait;
  }

  void resumed() {
    observer_.on_log(
        LogSeverity::kInfo, "TASK_MANAGER",
        fmt::format("Task restarting after a recoverable error (retry {}).", schedule_.retries()));
  }

 private:
  [[nodiscard]] std::string give_up_reason() const {
    if (policy_.count == 0) {
      return "Recoverable errors are not retried (ErrorBehavior.RecoverableErrorCount is 0).";
    }
    if (policy_.count > 0 && schedule_.retries() >= policy_.count) {
      return fmt::format("Gave up after {} retries (ErrorBehavior.RecoverableErrorCount is {}).",
                         schedule_.retries(), policy_.count);
    }
    return fmt::format(
        "Gave up after {} retries: the wait between them reached "
        "ErrorBehavior.RecoverableErrorThrottlingMax ({} s) and "
        "RecoverableErrorStopRetryAfterThrottlingMax is true.",
        schedule_.retries(), policy_.throttling_max.count());
  }

  RecoverableErrorPolicy policy_;
  RetrySchedule schedule_;
  FullLoadObserver& observer_;
};

// Passes every event on (every CdcObserver member: one left out is silently dropped) and
// remembers the last position reported: where a retry resumes.
class CheckpointWatcher final : public CdcObserver {
 public:
  explicit CheckpointWatcher(CdcObserver& inner) : inner_(inner) {}

  void on_tables_planned(const std::vector<TableStatus>& tables) override {
    inner_.on_tables_planned(tables);
  }
  void on_table_changed(const TableStatus& table) override { inner_.on_table_changed(table); }
  void on_progress(const FullLoadProgress& progress) override { inner_.on_progress(progress); }
  void on_log(LogSeverity severity, std::string_view component, std::string_view message) override {
    inner_.on_log(severity, component, message);
  }
  void on_capturing() override { inner_.on_capturing(); }
  void on_full_load_done(const FullLoadResult& result) override {
    inner_.on_full_load_done(result);
  }
  void on_cdc_tables(const std::vector<TableStatus>& tables) override {
    inner_.on_cdc_tables(tables);
  }
  void on_checkpoint(Lsn confirmed) override {
    checkpoint = confirmed;
    inner_.on_checkpoint(confirmed);
  }
  void on_cdc_metrics(const CdcMetrics& metrics) override { inner_.on_cdc_metrics(metrics); }
  void on_tables_reloaded(const std::vector<TableStatus>& tables) override {
    inner_.on_tables_reloaded(tables);
  }

  std::optional<Lsn> checkpoint;

 private:
  CdcObserver& inner_;
};

// Shows a full-load retry, which loads only the tables left, as the whole task: the tables
// completed by earlier attempts stay in the plan, the counts and the rows.
class CompletedTablesMerger final : public FullLoadObserver {
 public:
  explicit CompletedTablesMerger(FullLoadObserver& inner) : inner_(inner) {}

  void on_tables_planned(const std::vector<TableStatus>& tables) override {
    inner_.on_tables_planned(merged(tables));
  }
  void on_table_changed(const TableStatus& table) override { inner_.on_table_changed(table); }
  void on_progress(const FullLoadProgress& progress) override {
    inner_.on_progress(with_completed(progress));
  }
  void on_log(LogSeverity severity, std::string_view component, std::string_view message) override {
    inner_.on_log(severity, component, message);
  }

  [[nodiscard]] std::vector<TableStatus> merged(const std::vector<TableStatus>& tables) const {
    auto out = completed;
    out.insert(out.end(), tables.begin(), tables.end());
    return out;
  }
  [[nodiscard]] FullLoadProgress with_completed(FullLoadProgress progress) const {
    progress.tables_loaded += static_cast<int>(completed.size());
    progress.rows_loaded += std::accumulate(
        completed.begin(), completed.end(), std::int64_t{0},
        [](std::int64_t sum, const TableStatus& table) { return sum + table.full_load_rows; });
    return progress;
  }

  std::vector<TableStatus> completed;  // by earlier attempts

 private:
  FullLoadObserver& inner_;
};

}  // namespace

CdcResult run_cdc_recovering(const CdcRequest& request, CdcObserver& observer) {
  CheckpointWatcher watcher(observer);
  RetryDecider decider(request.load.task_settings, watcher);
  CdcRequest attempt = request;
  for (bool first = true;; first = false) {
    auto result = run_cdc(attempt, watcher);
    if (result.outcome != CdcOutcome::kFailed) return result;
    const bool progressed =
        watcher.checkpoint && (!attempt.resume_from || *watcher.checkpoint > *attempt.resume_from);
    const auto wait =
        decider.after(result.error_kind, result.failure_message, first && !progressed, progressed);
    if (!wait) return result;
    if (!wait_unless_stopped(*wait, request.load.stop)) {
      result.outcome = CdcOutcome::kStopped;
      result.failure_message.clear();
      return result;
    }
    // Once the slot held a position the retry resumes there; before, it starts afresh (a new
    // slot and, for full-load-and-cdc, a new load).
    if (watcher.checkpoint) {
      attempt.resume_from = watcher.checkpoint;
      attempt.start_position.reset();
      attempt.previous_tables = result.tables;
    }
    decider.resumed();
  }
}

FullLoadResult run_full_load_recovering(const FullLoadRequest& request,
                                        FullLoadObserver& observer) {
  CompletedTablesMerger merger(observer);
  RetryDecider decider(request.task_settings, merger);
  FullLoadRequest attempt = request;
  for (bool first = true;; first = false) {
    auto result = run_full_load(attempt, merger);
    result.tables = merger.merged(result.tables);
    result.progress = merger.with_completed(result.progress);
    if (result.outcome != FullLoadOutcome::kFailed) return result;
    std::vector<TableStatus> completed, left;
    for (const auto& table : result.tables) {
      (table.state == TableState::kCompleted ? completed : left).push_back(table);
    }
    const bool progressed = completed.size() > merger.completed.size();
    const auto wait =
        decider.after(result.error_kind, result.failure_message, first && !progressed, progressed);
    if (!wait) return result;
    if (!wait_unless_stopped(*wait, request.stop)) {
      result.outcome = FullLoadOutcome::kStopped;
      result.failure_message.clear();
      return result;
    }
    // A failure before the tables were planned retries the same tables.
    if (!left.empty()) {
      merger.completed = std::move(completed);
      attempt.only_tables.clear();
      for (const auto& table : left) attempt.only_tables.push_back(table.source);
    }
    decider.resumed();
  }
}

}  // namespace dagster_dms::replicate
