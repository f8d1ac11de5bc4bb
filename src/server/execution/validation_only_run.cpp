#include "server/execution/validation_only_run.hpp"

#include <fmt/format.h>

#include "replicate/table_mapping.hpp"

namespace dagster_dms::server {

namespace rep = replicate;

namespace {

// The tables the mappings select, as a load would plan them; none is loaded.
std::vector<rep::TableStatus> selected_tables(const rep::FullLoadRequest& request) {
  const auto mapping = rep::TableMapping::parse(request.table_mappings);
  auto source = rep::open_task_source(request.source, "dms-local validator");
  std::vector<rep::TableStatus> tables;
  const auto now = rep::Clock::now();
  for (const auto& plan : rep::plan_tables(mapping, rep::read_catalog(source, false))) {
    rep::TableStatus table;
    table.source = plan.source;
    table.target = plan.target;
    table.state = rep::TableState::kCompleted;
    table.last_update_time = now;
    tables.push_back(std::move(table));
  }
  return tables;
}

}  // namespace

void run_validation_only_task(const rep::FullLoadRequest& request, RunReporter& reporter,
                              RunValidation& validation) {
  rep::FullLoadResult result;
  result.start_time = rep::Clock::now();
  RunEnd end;
  try {
    result.tables = selected_tables(request);
    reporter.on_tables_planned(result.tables);
    reporter.on_log(rep::LogSeverity::kInfo, "TASK_MANAGER",
                    fmt::format("Validation only: {} table(s) are compared, none is loaded.",
                                result.tables.size()));
    validation.queue(result.tables);
    validation.validate_waiting(request.stop);
    end.kind = request.stop.stop_requested() ? RunEnd::Kind::kStopped : RunEnd::Kind::kFinished;
    end.stop_reason = "Stop Reason FULL_LOAD_ONLY_FINISHED";
    end.summary = fmt::format("{} table(s) validated.", result.tables.size());
  } catch (const std::exception& error) {
    result.outcome = rep::FullLoadOutcome::kFailed;
    end.kind = RunEnd::Kind::kFailed;
    end.failure_message = rep::first_line(error.what());
  }
  result.end_time = rep::Clock::now();
  result.progress.tables_loaded = static_cast<int>(result.tables.size());
  if (end.kind == RunEnd::Kind::kStopped) result.outcome = rep::FullLoadOutcome::kStopped;
  reporter.finish(result);
  reporter.report_end(end);
}

}  // namespace dagster_dms::server
