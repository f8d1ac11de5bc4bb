// dmsctl tables validate: compares a running task's tables again (ReloadTables validate-only)
// and shows each table's validation.

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "orchestrate/table_reload.hpp"
#include "orchestrate/table_state.hpp"
#include "output.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

// DMS takes at most this many tables per ReloadTables request.
constexpr std::size_t kTablesPerRequest = 10;

struct ValidateOptions {
  std::string task;
  std::vector<std::string> tables;  // SCHEMA.TABLE; empty = every table of the task
  std::optional<double> timeout_seconds;
};

mapping::QualifiedName parse_table(const std::string& text) {
  const auto dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
    throw UsageError(fmt::format("--table '{}' must be SCHEMA.TABLE (the source table)", text));
  }
  return {text.substr(0, dot), text.substr(dot + 1)};
}

void validate_tables(CommandContext& context, const ValidateOptions& options) {
  orchestrate::ReloadOptions reload;
  reload.reload_option = "validate-only";
  if (options.timeout_seconds) {
    if (*options.timeout_seconds <= 0) {
      throw UsageError("--timeout must be a positive number of seconds");
    }
    reload.timeout =
        std::chrono::milliseconds(static_cast<long long>(*options.timeout_seconds * 1000));
  }
  if (auto interval = poll_interval(context.global)) reload.poll_interval = *interval;
  std::vector<mapping::QualifiedName> tables;
  for (const auto& text : options.tables) tables.push_back(parse_table(text));

  auto& client = context.clients.dms();
  const auto task = find_task(client, options.task, false);
  const auto arn = task.replication_task_arn.value_or(options.task);
  if (tables.empty()) {
    dms::DescribeTableStatisticsMessage request;
    request.replication_task_arn = arn;
    for (const auto& table : client.describe_table_statistics_all(request)) {
      tables.push_back({table.schema_name.value_or(""), table.table_name.value_or("")});
    }
    if (tables.empty()) {
      throw CommandFailure(kExitFailed,
                           fmt::format("task {} has no tables to validate yet", options.task));
    }
  }

  aws::SystemClock clock;
  std::vector<dms::TableStatistics> results;
  std::string timed_out;
  for (std::size_t first = 0; first < tables.size(); first += kTablesPerRequest) {
    const auto last = std::min(tables.size(), first + kTablesPerRequest);
    reload.tables.assign(tables.begin() + static_cast<std::ptrdiff_t>(first),
                         tables.begin() + static_cast<std::ptrdiff_t>(last));
    const auto result = orchestrate::reload_tables(client, clock, arn, reload);
    if (result.tables.empty() && !result.succeeded) {
      // Refused before anything was sent (the task is not running, no validation...).
      throw CommandFailure(kExitFailed, result.message);
    }
    results.insert(results.end(), result.tables.begin(), result.tables.end());
    if (result.message.find("timeout") != std::string::npos) timed_out = result.message;
  }

  std::vector<std::string> failing;
  for (const auto& table : results) {
    if (orchestrate::table_failure("", table.validation_state.value_or(""))) {
      failing.push_back(
          fmt::format("{}.{}", table.schema_name.value_or(""), table.table_name.value_or("")));
    }
  }
  if (context.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& table : results) out.push_back(dms::to_redacted_json(table));
    print_json({{"ReplicationTaskArn", arn},
                {"Validated", failing.empty() && timed_out.empty()},
                {"TableStatistics", std::move(out)}});
  } else {
    Table table({"SCHEMA", "TABLE", "VALIDATION", "FAILED", "PENDING", "SUSPENDED", "DETAILS"});
    for (const auto& t : results) {
      table.add_row({cell(t.schema_name), cell(t.table_name), cell(t.validation_state),
                     cell(t.validation_failed_records), cell(t.validation_pending_records),
                     cell(t.validation_suspended_records), cell(t.validation_state_details)});
    }
    table.print();
  }
  if (!timed_out.empty()) throw CommandFailure(kExitTimedOut, timed_out);
  if (!failing.empty()) {
    std::string joined;
    for (const auto& name : failing) joined += (joined.empty() ? "" : ", ") + name;
    throw CommandFailure(kExitFailed, fmt::format("validation failed for {}", joined));
  }
}

}  // namespace

void add_tables_commands(CLI::App& app, CommandContext& context) {
  CLI::App* tables = app.add_subcommand("tables", "Table-level operations of a running task");
  tables->require_subcommand(1);

  auto options = std::make_shared<ValidateOptions>();
  CLI::App* validate = tables->add_subcommand(
      "validate",
      "Compare a running task's tables on source and target again (ReloadTables "
      "validate-only) and show their validation; exit code 4 when a table fails validation");
  validate->add_option("task", options->task, "Task identifier or ARN")->required();
  validate->add_option("--table", options->tables,
                       "A source table SCHEMA.TABLE to validate (repeatable); default: every "
                       "table of the task");
  validate->add_option("--timeout", options->timeout_seconds,
                       "Give up waiting after S seconds (exit code 3); default one hour");
  validate->callback([&context, options] {
    context.action = [&context, options] { validate_tables(context, *options); };
  });
}

}  // namespace dagster_dms::dmsctl
