#include "server/execution/data_plane_executor.hpp"

#include <fmt/format.h>

#include <exception>
#include <utility>
#include <variant>

#include "replicate/cdc.hpp"
#include "replicate/replication_stream.hpp"
#include "replicate/task_settings.hpp"
#include "replicate/validation_settings.hpp"
#include "server/execution/cdc_run.hpp"
#include "server/execution/full_load_run.hpp"
#include "server/execution/run_end.hpp"
#include "server/execution/run_reporter.hpp"
#include "server/execution/task_plan.hpp"
#include "server/execution/validation_only_run.hpp"

namespace dagster_dms::server {

namespace rep = replicate;

namespace {

// The run's validation: enabled by ValidationSettings.EnableValidation on a postgres target.
// Throws std::invalid_argument for settings a run cannot use.
std::unique_ptr<RunValidation> run_validation(const TaskPlan& plan,
                                              const std::string& task_resource_id) {
  auto settings = rep::parse_validation_settings(plan.load.task_settings);
  const auto* target = std::get_if<rep::PostgresTarget>(&plan.load.target);
  if (!settings.enabled || target == nullptr) return std::make_unique<RunValidation>(std::nullopt);
  RunValidationContext context;
  context.source = plan.load.source;
  context.target = target->endpoint;
  context.task_name = task_resource_id;
  context.control_schema = rep::parse_full_load_settings(plan.load.task_settings).control_schema;
  context.table_mappings = plan.load.table_mappings;
  context.settings = settings;
  return std::make_unique<RunValidation>(std::move(context));
}

}  // namespace

DataPlaneExecutor::DataPlaneExecutor(DataPlaneExecutorOptions options)
    : options_(std::move(options)) {}

DataPlaneExecutor::~DataPlaneExecutor() {
  shutdown();
}

void DataPlaneExecutor::reap_finished_locked() {
  for (auto it = runs_.begin(); it != runs_.end();) {
    // A done run's thread has nothing left to do but return: joining it is immediate.
    if (it->second->done) {
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
}

void DataPlaneExecutor::start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) {
  const auto arn = run.task.replication_task_arn.value_or("");
  const auto identity = task_telemetry_identity(run);
  TaskTelemetry* const telemetry = options_.telemetry;
  if (telemetry != nullptr) {
    telemetry->log(
        identity, 'I', "TASK_MANAGER",
        fmt::format("Task '{}' is starting: {}, start type {}.", identity.task_identifier,
                    run.task.migration_type.value_or("full-load"), run.start_type));
  }
  auto planned = plan_task_run(run, options_.s3_root, identity.task_resource_id);
  if (auto* message = std::get_if<std::string>(&planned)) {
    RunEnd end;
    end.kind = RunEnd::Kind::kFailed;
    end.failure_message = std::move(*message);
    report_run_end(end, *callbacks, telemetry, identity, identity.task_identifier);
    return;
  }

  std::unique_ptr<RunValidation> validation;
  std::string refusal;
  try {
    validation = run_validation(std::get<TaskPlan>(planned), identity.task_resource_id);
  } catch (const std::invalid_argument& error) {
    refusal = fmt::format("Invalid task settings: {}.", error.what());
  }
  const bool validation_only =
      validation && validation->settings() && validation->settings()->validation_only;
  if (validation_only && std::get<TaskPlan>(planned).cdc) {
    refusal = fmt::format(
        "Task {} is a validation-only cdc task; dms-local runs validation-only full-load tasks "
        "only.",
        identity.task_identifier);
  }
  if (!refusal.empty()) {
    RunEnd end;
    end.kind = RunEnd::Kind::kFailed;
    end.failure_message = std::move(refusal);
    report_run_end(end, *callbacks, telemetry, identity, identity.task_identifier);
    return;
  }

  std::unique_ptr<Run> previous;
  auto next = std::make_unique<Run>();
  next->validation = std::move(validation);
  Run* const slot = next.get();
  {
    const std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    reap_finished_locked();
    if (auto it = runs_.find(arn); it != runs_.end()) previous = std::move(it->second);
    runs_[arn] = std::move(next);
  }
  // An earlier run of the same task is over as far as the control plane knows; make sure its
  // thread is too before a second load writes the same tables. Outside our lock: its callbacks
  // may still be reporting (and are ignored as a past run's).
  if (previous) {
    previous->thread.request_stop();
    previous.reset();
  }

  const auto task_id = run.task.replication_task_identifier.value_or(arn);
  const auto task_start =
      run.task.replication_task_stats && run.task.replication_task_stats->start_date
          ? *run.task.replication_task_stats->start_date
          : rep::Clock::now();
  if (options_.logger) {
    options_.logger->log(LogLevel::kInfo,
                         fmt::format("task {}: full load starting ({})", task_id, run.start_type));
  }
  slot->thread = std::jthread([this, slot, task_id, task_start, identity, validation_only,
                               plan = std::get<TaskPlan>(std::move(planned)),
                               callbacks = std::move(callbacks)](std::stop_token stop) mutable {
    try {
      plan.load.stop = std::move(stop);
      RunReporter reporter(callbacks, options_, task_id, task_start, identity, slot->reloads,
                           *slot->validation);
      if (validation_only) {
        run_validation_only_task(plan.load, reporter, *slot->validation);
      } else if (plan.cdc) {
        plan.cdc->load = std::move(plan.load);
        run_cdc_task(std::move(*plan.cdc), reporter, slot->reloads, *slot->validation,
                     options_.cdc_apply_delay);
      } else {
        run_full_load_task(plan.load, reporter, slot->reloads, *slot->validation);
      }
    } catch (const std::exception& error) {
      // Never let a thread end the process: the task fails and says why.
      try {
        callbacks->on_failed(fmt::format("dms-local internal error: {}", error.what()));
      } catch (const std::exception& report_error) {
        if (options_.logger) {
          options_.logger->log(LogLevel::kError,
                               fmt::format("task {}: cannot record the end of a run: {}", task_id,
                                           report_error.what()));
        }
      }
    }
    slot->done = true;
  });
}

void DataPlaneExecutor::stop(const std::string& task_arn) {
  const std::lock_guard lock(mutex_);
  const auto it = runs_.find(task_arn);
  if (it == runs_.end()) return;
  // The engine notices between chunks of rows and ends with kStopped -> on_stopped.
  it->second->thread.request_stop();
}

std::vector<std::string> DataPlaneExecutor::reload(const std::string& task_arn,
                                                   const std::vector<dms::TableToReload>& tables) {
  const std::lock_guard lock(mutex_);
  const auto it = runs_.find(task_arn);
  if (it == runs_.end() || it->second->done) {
    return std::vector<std::string>(tables.size(), "the task's run has ended");
  }
  return it->second->reloads.add(tables);
}

std::vector<std::string> DataPlaneExecutor::validate(
    const std::string& task_arn, const std::vector<dms::TableToReload>& tables) {
  const std::lock_guard lock(mutex_);
  const auto it = runs_.find(task_arn);
  if (it == runs_.end() || it->second->done) {
    return std::vector<std::string>(tables.size(), "the task's run has ended");
  }
  return it->second->validation->revalidate(tables);
}

void DataPlaneExecutor::task_deleted(const TaskRun& run) {
  if (!captures_postgres_changes(run)) return;
  const auto identity = task_telemetry_identity(run);
  const auto slot = rep::replication_slot_name(identity.task_resource_id);
  try {
    rep::drop_cdc_artifacts(source_pg_endpoint(run), slot);
    if (options_.logger) {
      options_.logger->log(LogLevel::kInfo,
                           fmt::format("task {}: replication slot {} and its publications dropped",
                                       identity.task_identifier, slot));
    }
  } catch (const std::exception& error) {
    // The task is gone either way, as DMS deletes a task whose cleanup failed (event 0082).
    if (options_.logger) {
      options_.logger->log(LogLevel::kWarning,
                           fmt::format("task {}: cannot drop replication slot {} on the source: {}",
                                       identity.task_identifier, slot, error.what()));
    }
  }
}

void DataPlaneExecutor::shutdown() {
  std::map<std::string, std::unique_ptr<Run>> runs;
  {
    const std::lock_guard lock(mutex_);
    shutting_down_ = true;
    runs.swap(runs_);
  }
  for (auto& [arn, run] : runs) run->thread.request_stop();
  // Destroying the runs joins their threads (outside our lock: a run's last report may wait
  // for the control plane).
  runs.clear();
}

}  // namespace dagster_dms::server
