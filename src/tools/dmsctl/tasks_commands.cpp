// dmsctl tasks: list, describe, tables, start, stop, wait.

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "filter_options.hpp"
#include "orchestrate/discovery.hpp"
#include "orchestrate/runner.hpp"
#include "output.hpp"
#include "progress_display.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

using orchestrate::RunOutcome;
using orchestrate::RunResult;

const std::vector<std::string> kStartTypes = {"start-replication", "resume-processing",
                                              "reload-target"};

std::string progress_cell(const dms::ReplicationTask& task) {
  if (!task.replication_task_stats || !task.replication_task_stats->full_load_progress_percent) {
    return "-";
  }
  return fmt::format("{}%", *task.replication_task_stats->full_load_progress_percent);
}

std::string stop_reason_cell(const dms::ReplicationTask& task) {
  const std::string_view code = orchestrate::stop_reason_code(task.stop_reason.value_or(""));
  return code.empty() ? "-" : std::string(code);
}

void print_task_details(const dms::ReplicationTask& task) {
  Details details;
  details.add("Identifier", task.replication_task_identifier);
  details.add("ARN", task.replication_task_arn);
  details.add("Status", task.status);
  details.add(
      "Phase",
      std::string(orchestrate::to_string(orchestrate::judge(orchestrate::snapshot_of(task)))));
  details.add("Migration type", task.migration_type);
  details.add("Stop reason", task.stop_reason);
  details.add("Last failure", task.last_failure_message);
  if (const auto& stats = task.replication_task_stats) {
    details.add("Full load", progress_cell(task));
    details.add("Tables", fmt::format("loaded {}, loading {}, queued {}, errored {}",
                                      cell(stats->tables_loaded), cell(stats->tables_loading),
                                      cell(stats->tables_queued), cell(stats->tables_errored)));
    if (stats->full_load_start_date) details.add("Load started", cell(stats->full_load_start_date));
    if (stats->full_load_finish_date) {
      details.add("Load finished", cell(stats->full_load_finish_date));
    }
  }
  if (task.replication_task_creation_date) {
    details.add("Created", cell(task.replication_task_creation_date));
  }
  if (task.replication_task_start_date) {
    details.add("Started", cell(task.replication_task_start_date));
  }
  details.add("Source endpoint", task.source_endpoint_arn);
  details.add("Target endpoint", task.target_endpoint_arn);
  details.add("Instance", task.replication_instance_arn);
  details.add("CDC start position", task.cdc_start_position);
  details.add("CDC stop position", task.cdc_stop_position);
  details.add("Recovery checkpoint", task.recovery_checkpoint);
  details.print();
}

// The options of the commands that wait.
struct WaitOptions {
  std::optional<double> timeout_seconds;
};

orchestrate::RunOptions run_options(const CommandContext& context, const WaitOptions& wait) {
  orchestrate::RunOptions options;
  if (auto interval = poll_interval(context.global)) {
    options.poll_interval_min = *interval;
    options.poll_interval_max = *interval;
  }
  if (wait.timeout_seconds) {
    if (*wait.timeout_seconds <= 0)
      throw UsageError("--timeout must be a positive number of seconds");
    const auto timeout =
        std::chrono::milliseconds(static_cast<long long>(*wait.timeout_seconds * 1000));
    options.completion_timeout = timeout;
    // A wait bounded by the user is bounded in every phase, including a task stuck starting.
    options.start_timeout = std::min(options.start_timeout, timeout);
  }
  // Ctrl-C means "stop waiting", not "stop my migration": the task is left running.
  options.stop_on_cancel = false;
  return options;
}

void add_timeout_option(CLI::App& command, WaitOptions& wait) {
  command.add_option("--timeout", wait.timeout_seconds,
                     "Give up waiting after S seconds (exit code 3); no limit by default");
}

// Prints a run's result on stdout and turns its outcome into the exit code.
void report(const CommandContext& context, const RunResult& result) {
  if (context.json()) {
    nlohmann::json document = {
        {"Outcome", std::string(orchestrate::to_string(result.outcome))},
        {"Phase", std::string(orchestrate::to_string(result.phase))},
        {"Message", result.message},
        {"Notes", result.notes},
        {"Started", result.started},
        {"WaitedSeconds", result.waited.count() / 1000.0},
        {"ReplicationTask", dms::to_redacted_json(result.resource)},
    };
    if (result.started) document["StartReplicationTaskType"] = result.start_type_sent;
    print_json(document);
  } else {
    print_task_details(result.resource);
    fmt::print("\n");
    for (const auto& text : result.notes) fmt::print("Note: {}\n", text);
    fmt::print("Outcome: {}: {}\n", orchestrate::to_string(result.outcome), result.message);
  }
  switch (result.outcome) {
    case RunOutcome::kSucceeded:
      return;
    case RunOutcome::kTimedOut:
      throw CommandFailure(kExitTimedOut, "timed out: " + result.message);
    case RunOutcome::kCancelled:
      throw CommandFailure(kExitInterrupted, "interrupted: " + result.message);
    case RunOutcome::kFailed:
      throw CommandFailure(kExitFailed, "task failed: " + result.message);
  }
}

// Runs `body` with a progress display labelled `label`, closed before the result is printed.
template <class Body>
RunResult with_progress(const std::string& label, Body&& body) {
  ProgressDisplay display = ProgressDisplay::for_stderr(label);
  RunResult result = body([&](const orchestrate::Progress& p) { display.update(p); });
  display.finish();
  return result;
}

// ---- commands ----------------------------------------------------------------------------------

void list_tasks(CommandContext& context, const FilterOptions& filters) {
  const orchestrate::ResourceFilter filter = build_filter(filters);
  orchestrate::Discovery discovery(context.clients.dms());
  const auto found = discovery.tasks(filter);
  for (const auto& warning : found.warnings) warn(warning);
  const bool with_tags = has_tag_filter(filters);
  if (context.json()) {
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& item : found.items) {
      nlohmann::json task = dms::to_redacted_json(item.resource);
      if (with_tags) task["Tags"] = tags_json(item.tags);
      tasks.push_back(std::move(task));
    }
    print_json({{"ReplicationTasks", std::move(tasks)}});
    return;
  }
  std::vector<std::string> headers = {"IDENTIFIER", "STATUS",      "TYPE",
                                      "FULL LOAD",  "STOP REASON", "ARN"};
  if (with_tags) headers.insert(headers.end() - 1, "TAGS");
  Table table(headers);
  for (const auto& item : found.items) {
    const auto& task = item.resource;
    std::vector<std::string> row = {cell(task.replication_task_identifier),
                                    cell(task.status),
                                    cell(task.migration_type),
                                    progress_cell(task),
                                    stop_reason_cell(task),
                                    cell(task.replication_task_arn)};
    if (with_tags) row.insert(row.end() - 1, tags_cell(item.tags));
    table.add_row(std::move(row));
  }
  table.print();
}

void describe_task(CommandContext& context, const std::string& name) {
  const dms::ReplicationTask task = find_task(context.clients.dms(), name, true);
  if (context.json()) {
    print_json({{"ReplicationTask", dms::to_redacted_json(task)}});
    return;
  }
  print_task_details(task);
}

void task_tables(CommandContext& context, const std::string& name) {
  auto& client = context.clients.dms();
  const dms::ReplicationTask task = find_task(client, name, false);
  dms::DescribeTableStatisticsMessage request;
  request.replication_task_arn = task.replication_task_arn.value_or(name);
  const auto statistics = client.describe_table_statistics_all(request);
  if (context.json()) {
    nlohmann::json tables = nlohmann::json::array();
    for (const auto& table : statistics) tables.push_back(dms::to_redacted_json(table));
    print_json({{"ReplicationTaskArn", request.replication_task_arn},
                {"TableStatistics", std::move(tables)}});
    return;
  }
  Table table({"SCHEMA", "TABLE", "STATE", "FULL LOAD ROWS", "ERROR ROWS", "INSERTS", "UPDATES",
               "DELETES", "DDLS", "VALIDATION", "LAST UPDATE"});
  for (const auto& t : statistics) {
    table.add_row({cell(t.schema_name), cell(t.table_name), cell(t.table_state),
                   cell(t.full_load_rows), cell(t.full_load_error_rows), cell(t.inserts),
                   cell(t.updates), cell(t.deletes), cell(t.ddls), cell(t.validation_state),
                   cell(t.last_update_time)});
  }
  table.print();
}

struct StartOptions {
  std::string name;
  std::string type = "start-replication";
  bool wait = false;
  WaitOptions limits;
};

void start_task(CommandContext& context, const StartOptions& start) {
  // Options first: a bad value is a usage error even when AWS is not configured.
  orchestrate::RunOptions options = run_options(context, start.limits);
  auto& client = context.clients.dms();
  if (start.wait) {
    options.start_type = start.type;
    aws::SystemClock clock;
    orchestrate::TaskRunner runner(client, clock);
    install_interrupt_handler();
    const RunResult result = with_progress(start.name, [&](const auto& on_progress) {
      return runner.run(start.name, options, on_progress, [] { return interrupted(); });
    });
    report(context, result);
    return;
  }
  // Without --wait: the same start decision the runner makes, then return at once.
  dms::ReplicationTask task = find_task(client, start.name, false);
  const std::string status = task.status.value_or("");
  std::vector<std::string> notes;
  std::optional<std::string> sent;
  if (status == "starting" || status == "running") {
    notes.push_back(fmt::format("the task is already {}; it was not started again", status));
  } else {
    std::string reason;
    const std::string type = orchestrate::effective_start_type(task, start.type, &reason);
    if (!reason.empty()) notes.push_back(reason);
    dms::StartReplicationTaskMessage request;
    request.replication_task_arn = task.replication_task_arn.value_or(start.name);
    request.start_replication_task_type = type;
    auto response = client.start_replication_task(request);
    if (response.replication_task) task = std::move(*response.replication_task);
    sent = type;
  }
  if (context.json()) {
    nlohmann::json document = {{"Started", sent.has_value()},
                               {"Notes", notes},
                               {"ReplicationTask", dms::to_redacted_json(task)}};
    if (sent) document["StartReplicationTaskType"] = *sent;
    print_json(document);
    return;
  }
  print_task_details(task);
  fmt::print("\n");
  for (const auto& text : notes) fmt::print("Note: {}\n", text);
  if (sent) fmt::print("Started with {}\n", *sent);
}

struct StopOptions {
  std::string name;
  bool wait = false;
  WaitOptions limits;
};

void stop_task(CommandContext& context, const StopOptions& stop) {
  const orchestrate::RunOptions options = run_options(context, stop.limits);
  aws::SystemClock clock;
  orchestrate::TaskRunner runner(context.clients.dms(), clock);
  const RunResult result = with_progress(stop.name, [&](const auto& on_progress) {
    return runner.stop(stop.name, stop.wait, options, on_progress);
  });
  report(context, result);
}

struct WaitCommandOptions {
  std::string name;
  std::string until;
  WaitOptions limits;
};

orchestrate::WaitGoal goal_named(const std::string& until) {
  if (until == "running") return orchestrate::WaitGoal::kRunning;
  if (until == "stopped") return orchestrate::WaitGoal::kStopped;
  if (until == "full-load-complete") return orchestrate::WaitGoal::kFullLoadComplete;
  if (until == "complete") return orchestrate::WaitGoal::kCompletion;
  throw UsageError(fmt::format("--until: unknown goal '{}'", until));
}

void wait_task(CommandContext& context, const WaitCommandOptions& wait) {
  orchestrate::RunOptions options = run_options(context, wait.limits);
  options.goal = goal_named(wait.until);
  aws::SystemClock clock;
  orchestrate::TaskRunner runner(context.clients.dms(), clock);
  install_interrupt_handler();
  const RunResult result = with_progress(wait.name, [&](const auto& on_progress) {
    return runner.wait(wait.name, options, on_progress, [] { return interrupted(); });
  });
  report(context, result);
}

}  // namespace

void add_tasks_commands(CLI::App& app, CommandContext& context) {
  CLI::App* tasks = app.add_subcommand("tasks", "Replication tasks");
  tasks->require_subcommand(1);

  auto filters = std::make_shared<FilterOptions>();
  CLI::App* list = tasks->add_subcommand("list", "List replication tasks, optionally filtered");
  add_filter_options(*list, *filters);
  list->callback([&context, filters] {
    context.action = [&context, filters] { list_tasks(context, *filters); };
  });

  auto described = std::make_shared<std::string>();
  CLI::App* describe = tasks->add_subcommand("describe", "Show one replication task");
  describe->add_option("task", *described, "Task identifier or ARN")->required();
  describe->callback([&context, described] {
    context.action = [&context, described] { describe_task(context, *described); };
  });

  auto tabled = std::make_shared<std::string>();
  CLI::App* tables =
      tasks->add_subcommand("tables", "Show a task's table statistics (DescribeTableStatistics)");
  tables->add_option("task", *tabled, "Task identifier or ARN")->required();
  tables->callback([&context, tabled] {
    context.action = [&context, tabled] { task_tables(context, *tabled); };
  });

  auto start = std::make_shared<StartOptions>();
  CLI::App* start_cmd = tasks->add_subcommand("start", "Start (or resume, or reload) a task");
  start_cmd->add_option("task", start->name, "Task identifier or ARN")->required();
  start_cmd
      ->add_option("--type", start->type,
                   "start-replication (default), resume-processing or reload-target; a task that "
                   "ran before is resumed (CDC) or reloaded (full load) when start-replication "
                   "is asked")
      ->check(CLI::IsMember(kStartTypes));
  start_cmd->add_flag("--wait", start->wait,
                      "Wait until the task has finished its full load or is replicating");
  add_timeout_option(*start_cmd, start->limits);
  start_cmd->callback(
      [&context, start] { context.action = [&context, start] { start_task(context, *start); }; });

  auto stop = std::make_shared<StopOptions>();
  CLI::App* stop_cmd = tasks->add_subcommand("stop", "Stop a running task");
  stop_cmd->add_option("task", stop->name, "Task identifier or ARN")->required();
  stop_cmd->add_flag("--wait", stop->wait, "Wait until the task has stopped");
  add_timeout_option(*stop_cmd, stop->limits);
  stop_cmd->callback(
      [&context, stop] { context.action = [&context, stop] { stop_task(context, *stop); }; });

  auto wait = std::make_shared<WaitCommandOptions>();
  CLI::App* wait_cmd = tasks->add_subcommand("wait", "Wait until a task reaches a state");
  wait_cmd->add_option("task", wait->name, "Task identifier or ARN")->required();
  wait_cmd
      ->add_option("--until", wait->until,
                   "running, stopped, full-load-complete, or complete (load finished or "
                   "replicating)")
      ->required()
      ->check(CLI::IsMember({"running", "stopped", "full-load-complete", "complete"}));
  add_timeout_option(*wait_cmd, wait->limits);
  wait_cmd->callback(
      [&context, wait] { context.action = [&context, wait] { wait_task(context, *wait); }; });
}

}  // namespace dagster_dms::dmsctl
