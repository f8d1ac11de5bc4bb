// dmsctl assessments run|list|show: premigration assessment runs of replication tasks
// (StartReplicationTaskAssessmentRun and the runs' Describe calls), judged by the core.

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "exit_codes.hpp"
#include "orchestrate/assessment_run.hpp"
#include "output.hpp"
#include "progress_display.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

struct RunOptions {
  std::string task;
  std::string role_arn;
  std::string bucket;
  std::string folder;
  std::string name;
  std::vector<std::string> include_only;
  std::vector<std::string> exclude;
  double timeout_seconds = 3600;
};

std::string progress_text(const dms::ReplicationTaskAssessmentRun& run) {
  const auto progress =
      run.assessment_progress.value_or(dms::ReplicationTaskAssessmentRunProgress{});
  return fmt::format("{} ({}/{} assessments done)", run.status.value_or("?"),
                     progress.individual_assessment_completed_count.value_or(0),
                     progress.individual_assessment_count.value_or(0));
}

void print_run(const orchestrate::AssessmentRunResult& result) {
  const auto& run = result.run;
  fmt::print("Assessment run: {}\n", run.assessment_run_name.value_or(""));
  fmt::print("ARN:            {}\n", run.replication_task_assessment_run_arn.value_or(""));
  fmt::print("Task:           {}\n", run.replication_task_arn.value_or(""));
  fmt::print("Status:         {}\n", progress_text(run));
  fmt::print("Results:        s3://{}/{}\n", run.result_location_bucket.value_or(""),
             run.result_location_folder.value_or(""));
  if (run.last_failure_message) fmt::print("Last failure:   {}\n", *run.last_failure_message);
  fmt::print("\n");
  Table table({"INDIVIDUAL ASSESSMENT", "STATUS"});
  for (const auto& item : result.individual) {
    table.add_row({cell(item.individual_assessment_name), cell(item.status)});
  }
  table.print();
}

nlohmann::json run_json(const orchestrate::AssessmentRunResult& result) {
  nlohmann::json individual = nlohmann::json::array();
  for (const auto& item : result.individual) individual.push_back(dms::to_redacted_json(item));
  return {{"Passed", result.passed},
          {"Finished", result.finished},
          {"Message", result.message},
          {"ReplicationTaskAssessmentRun", dms::to_redacted_json(result.run)},
          {"ReplicationTaskIndividualAssessments", std::move(individual)}};
}

// Prints the result and turns the verdict into the exit code: 0 passed or warning, 4 failed,
// 3 when the wait ran out, 130 when interrupted.
void report(const CommandContext& context, const orchestrate::AssessmentRunResult& result,
            bool was_interrupted) {
  if (context.json()) {
    print_json(run_json(result));
  } else {
    print_run(result);
    fmt::print("\n{}\n", result.message);
  }
  if (result.passed) return;
  if (!result.finished) {
    throw CommandFailure(was_interrupted ? kExitInterrupted : kExitTimedOut, result.message);
  }
  throw CommandFailure(kExitFailed, result.message);
}

void run_assessment(CommandContext& context, const RunOptions& options) {
  if (options.timeout_seconds <= 0) throw UsageError("--timeout must be more than 0 seconds");
  auto& client = context.clients.dms();
  aws::SystemClock clock;
  const auto task = find_task(client, options.task, false);
  orchestrate::AssessmentRunOptions run;
  run.run_name = options.name.empty()
                     ? orchestrate::fresh_assessment_run_name(
                           task.replication_task_identifier.value_or("assessment"), clock)
                     : options.name;
  run.service_access_role_arn = options.role_arn;
  run.result_bucket = options.bucket;
  run.result_folder = options.folder;
  run.include_only = options.include_only;
  run.exclude = options.exclude;
  run.timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(options.timeout_seconds * 1000));
  run.poll_interval = std::chrono::seconds(2);
  install_interrupt_handler();
  const auto started = clock.now();
  orchestrate::AssessmentRunResult result;
  {
    auto display = ProgressDisplay::for_stderr(run.run_name);
    result = orchestrate::run_assessment(
        client, clock, task.replication_task_arn.value_or(options.task), run,
        [] { return interrupted(); },
        [&](const dms::ReplicationTaskAssessmentRun& state) {
          const auto waited =
              std::chrono::duration_cast<std::chrono::seconds>(clock.now() - started).count();
          display.show(progress_text(state), waited);
        });
  }
  report(context, result, interrupted());
}

void list_runs(CommandContext& context, const std::string& task_name) {
  auto& client = context.clients.dms();
  std::optional<std::string> task_arn;
  if (!task_name.empty()) {
    task_arn = find_task(client, task_name, false).replication_task_arn.value_or(task_name);
  }
  const auto runs = orchestrate::list_assessment_runs(client, task_arn);
  if (context.json()) {
    nlohmann::json listed = nlohmann::json::array();
    for (const auto& run : runs) listed.push_back(dms::to_redacted_json(run));
    print_json({{"ReplicationTaskAssessmentRuns", std::move(listed)}});
    return;
  }
  Table table({"NAME", "TASK", "STATUS", "CREATED", "LATEST"});
  for (const auto& run : runs) {
    table.add_row({cell(run.assessment_run_name),
                   arn_resource_id(run.replication_task_arn.value_or("")), progress_text(run),
                   cell(run.replication_task_assessment_run_creation_date),
                   cell(run.is_latest_task_assessment_run)});
  }
  table.print();
}

// A run by its ARN or by its name (run names are unique in an account and region).
std::string run_arn_of(dms::DmsClient& client, const std::string& name) {
  if (is_arn(name)) return name;
  for (const auto& run : orchestrate::list_assessment_runs(client, std::nullopt)) {
    if (run.assessment_run_name == name)
      return run.replication_task_assessment_run_arn.value_or("");
  }
  throw aws::ServiceError("DMS", "DescribeReplicationTaskAssessmentRuns", "ResourceNotFoundFault",
                          fmt::format("No assessment run named {} in region {}.", name,
                                      client.rpc().session()->region()),
                          400, "");
}

void show_run(CommandContext& context, const std::string& name) {
  auto& client = context.clients.dms();
  const auto result = orchestrate::describe_assessment(client, run_arn_of(client, name));
  if (context.json()) {
    print_json(run_json(result));
    return;
  }
  print_run(result);
  fmt::print("\n{}\n", result.message);
}

}  // namespace

void add_assessments_commands(CLI::App& app, CommandContext& context) {
  CLI::App* group = app.add_subcommand(
      "assessments", "Premigration assessment runs of replication tasks (run, list, show)");
  group->require_subcommand(1);

  auto run = std::make_shared<RunOptions>();
  CLI::App* run_command = group->add_subcommand(
      "run", "Start a premigration assessment run on a task and wait for its verdict");
  run_command->add_option("task", run->task, "Task identifier or ARN")->required();
  run_command
      ->add_option("--role-arn", run->role_arn,
                   "ServiceAccessRoleArn: the IAM role DMS uses to write the results")
      ->required();
  run_command->add_option("--bucket", run->bucket, "ResultLocationBucket")->required();
  run_command->add_option("--folder", run->folder, "ResultLocationFolder");
  run_command->add_option("--name", run->name,
                          "AssessmentRunName (default: <task>-<UTC time>-<random>)");
  run_command->add_option("--include", run->include_only,
                          "Run only this individual assessment (repeatable)");
  run_command->add_option("--exclude", run->exclude,
                          "Skip this individual assessment (repeatable)");
  run_command->add_option("--timeout", run->timeout_seconds,
                          "Cancel the run after S seconds (exit code 3); default 3600");
  run_command->callback(
      [&context, run] { context.action = [&context, run] { run_assessment(context, *run); }; });

  auto list_task = std::make_shared<std::string>();
  CLI::App* list = group->add_subcommand("list", "List assessment runs, oldest first");
  list->add_option("--task", *list_task, "Only the runs of this task (identifier or ARN)");
  list->callback([&context, list_task] {
    context.action = [&context, list_task] { list_runs(context, *list_task); };
  });

  auto show_name = std::make_shared<std::string>();
  CLI::App* show =
      group->add_subcommand("show", "Show a run and the status of each individual assessment");
  show->add_option("run", *show_name, "Assessment run name or ARN")->required();
  show->callback([&context, show_name] {
    context.action = [&context, show_name] { show_run(context, *show_name); };
  });
}

}  // namespace dagster_dms::dmsctl
