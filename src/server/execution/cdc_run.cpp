#include "server/execution/cdc_run.hpp"

#include <utility>

#include "replicate/recovering_run.hpp"
#include "replicate/stoppable_wait.hpp"

namespace dagster_dms::server {

namespace rep = replicate;

void run_cdc_task(rep::CdcRequest request, RunReporter& reporter, ReloadRequests& reloads,
                  RunValidation& validation,
                  const std::function<std::chrono::milliseconds()>& apply_delay) {
  validation.start_background();
  request.take_reloads = [&reloads] { return reloads.take(); };
  request.reloads_finished = [&reloads](const std::vector<rep::QualifiedName>& tables) {
    reloads.finished(tables);
  };
  if (apply_delay) {
    request.before_commit = [&apply_delay](const std::stop_token& stop) {
      rep::wait_unless_stopped(apply_delay(), stop);
    };
  }
  const auto result = rep::run_cdc_recovering(request, reporter);
  reloads.close_and_forget();
  // Comparisons still under way end with the run; their tables keep their last state.
  validation.stop();
  // Tables whose reload was asked for but never began are not being reloaded any more.
  reporter.on_cdc_tables(result.tables);
  RunEnd end;
  switch (result.outcome) {
    case rep::CdcOutcome::kFailed:
      end.kind = RunEnd::Kind::kFailed;
      end.failure_message = result.failure_message;
      end.error_kind = result.error_kind;
      break;
    case rep::CdcOutcome::kFinished:
      end.kind = RunEnd::Kind::kFinished;
      end.stop_reason = result.stop_reason;
      break;
    case rep::CdcOutcome::kStopped:
    case rep::CdcOutcome::kFullLoadStopped:
      end.kind = RunEnd::Kind::kStopped;
      break;
  }
  reporter.report_end(end);
}

}  // namespace dagster_dms::server
