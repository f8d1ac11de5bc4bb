#include "server/execution/full_load_run.hpp"

#include <fmt/format.h>

#include "replicate/recovering_run.hpp"

namespace dagster_dms::server {

namespace {

namespace rep = replicate;

constexpr const char* kFullLoadFinished = "Stop Reason FULL_LOAD_ONLY_FINISHED";

// Watches a reload run: its table changes and log lines go to the task's reporter; its table
// plan and overall progress do not (the task's progress is the first load's).
class ReloadObserver final : public rep::FullLoadObserver {
 public:
  explicit ReloadObserver(RunReporter& reporter) : reporter_(reporter) {}
  void on_table_changed(const rep::TableStatus& table) override {
    reporter_.on_reload_table_changed(table);
  }
  void on_log(rep::LogSeverity severity, std::string_view component,
              std::string_view message) override {
    reporter_.on_log(severity, component, message);
  }

 private:
  RunReporter& reporter_;
};

// Reloads one batch of tables after the load; a stop during it stops the run.
void reload_batch(const rep::FullLoadRequest& request, std::vector<rep::QualifiedName> tables,
                  RunReporter& reporter, ReloadRequests& reloads, RunValidation& validation,
                  rep::FullLoadResult& result) {
  auto reload_request = request;
  reload_request.only_tables = std::move(tables);
  reporter.on_log(
      rep::LogSeverity::kInfo, "TASK_MANAGER",
      fmt::format("Reload for {} table(s) requested.", reload_request.only_tables.size()));
  ReloadObserver observer(reporter);
  const auto reload = rep::run_full_load(reload_request, observer);
  // Reported once the batch no longer counts as reloading.
  reloads.batch_finished();
  reporter.finish_reload(reload);
  validation.queue(reload.tables);
  validation.validate_waiting(request.stop);
  if (reload.outcome == rep::FullLoadOutcome::kStopped) {
    result.outcome = rep::FullLoadOutcome::kStopped;
  } else if (reload.outcome == rep::FullLoadOutcome::kFailed) {
    // The task keeps its finished load; the reload's failure is logged against it.
    reporter.on_log(rep::LogSeverity::kError, "TASK_MANAGER",
                    fmt::format("Reload failed: {}", reload.failure_message));
  }
}

RunEnd run_end_of(const rep::FullLoadResult& result) {
  RunEnd end;
  switch (result.outcome) {
    case rep::FullLoadOutcome::kFinished:
      end.kind = RunEnd::Kind::kFinished;
      end.stop_reason = kFullLoadFinished;
      end.summary = fmt::format("{} rows loaded in {} tables.", result.progress.rows_loaded,
                                result.progress.tables_loaded);
      break;
    case rep::FullLoadOutcome::kStopped:
      end.kind = RunEnd::Kind::kStopped;
      break;
    case rep::FullLoadOutcome::kFailed:
      end.kind = RunEnd::Kind::kFailed;
      end.failure_message = result.failure_message;
      end.error_kind = result.error_kind;
      break;
  }
  return end;
}

}  // namespace

void run_full_load_task(const rep::FullLoadRequest& request, RunReporter& reporter,
                        ReloadRequests& reloads, RunValidation& validation) {
  auto result = rep::run_full_load_recovering(request, reporter);
  if (result.outcome == rep::FullLoadOutcome::kFinished) {
    validation.queue(result.tables);
    validation.validate_waiting(request.stop);
  }
  while (result.outcome == rep::FullLoadOutcome::kFinished) {
    auto batch = reloads.next_batch();
    if (!batch) break;
    reload_batch(request, std::move(*batch), reporter, reloads, validation, result);
  }
  reloads.close();
  // validate-only reloads asked for meanwhile.
  if (result.outcome == rep::FullLoadOutcome::kFinished) validation.validate_waiting(request.stop);
  if (request.stop.stop_requested() && result.outcome == rep::FullLoadOutcome::kFinished) {
    result.outcome = rep::FullLoadOutcome::kStopped;
  }
  reporter.finish(result);
  reporter.report_end(run_end_of(result));
}

}  // namespace dagster_dms::server
