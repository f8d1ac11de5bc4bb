// dmsctl logs: the tail of a task's CloudWatch log.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "aws/errors.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

struct LogsOptions {
  std::string task;
  std::int64_t tail = 50;
};

struct LogLocation {
  std::string group;
  std::string stream;
  bool logging_disabled = false;  // the settings say EnableLogging: false
};

std::optional<std::string> string_member(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

// DMS writes a task's log to group dms-tasks-<instance id>, stream dms-task-<task resource id>;
// the settings' Logging section names them authoritatively when it names them at all.
LogLocation locate_log(dms::DmsClient& client, const dms::ReplicationTask& task) {
  LogLocation location;
  std::optional<std::string> group;
  std::optional<std::string> stream;
  if (task.replication_task_settings) {
    const auto settings =
        nlohmann::json::parse(*task.replication_task_settings, nullptr, /*allow_exceptions=*/false);
    if (settings.is_object()) {
      const auto logging = settings.find("Logging");
      if (logging != settings.end() && logging->is_object()) {
        group = string_member(*logging, "CloudWatchLogGroup");
        stream = string_member(*logging, "CloudWatchLogStream");
        const auto enabled = logging->find("EnableLogging");
        location.logging_disabled =
            enabled != logging->end() && enabled->is_boolean() && !enabled->get<bool>();
      }
    }
  }
  if (!group) {
    const dms::ReplicationInstance instance =
        find_instance(client, task.replication_instance_arn.value_or(""));
    group = "dms-tasks-" + instance.replication_instance_identifier.value_or("");
  }
  if (!stream) stream = "dms-task-" + arn_resource_id(task.replication_task_arn.value_or(""));
  location.group = std::move(*group);
  location.stream = std::move(*stream);
  return location;
}

dms::Timestamp from_millis(std::int64_t millis) {
  return dms::Timestamp(std::chrono::milliseconds(millis));
}

void show_logs(CommandContext& context, const LogsOptions& options) {
  const dms::ReplicationTask task = find_task(context.clients.dms(), options.task, true);
  const LogLocation location = locate_log(context.clients.dms(), task);
  if (location.logging_disabled) {
    warn("the task's settings have Logging.EnableLogging false; its log may be old or missing");
  }

  // Reading backwards from the end with a limit gives the newest `tail` events, oldest first.
  dms::logs::GetLogEventsRequest request;
  request.log_group_name = location.group;
  request.log_stream_name = location.stream;
  request.start_from_head = false;
  request.limit = options.tail;
  std::vector<dms::logs::OutputLogEvent> events;
  try {
    events = context.clients.logs().get_log_events(request).events.value_or(
        std::vector<dms::logs::OutputLogEvent>{});
  } catch (const aws::ServiceError& e) {
    if (e.code() == "ResourceNotFoundException") {
      throw aws::ServiceError(
          e.service(), e.operation(), e.code(),
          fmt::format("log stream '{}' in group '{}' not found: is CloudWatch logging enabled for "
                      "the task (ReplicationTaskSettings.Logging.EnableLogging), and has it run?",
                      location.stream, location.group),
          e.http_status(), e.request_id());
    }
    if (e.is_access_denied()) {
      throw aws::ServiceError(e.service(), e.operation(), e.code(),
                              "reading the task log needs the IAM action logs:GetLogEvents",
                              e.http_status(), e.request_id());
    }
    throw;
  }
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.timestamp.value_or(0) < b.timestamp.value_or(0);
  });

  if (context.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& event : events) {
      nlohmann::json item = {{"Message", event.message.value_or("")}};
      item["Timestamp"] =
          event.timestamp ? json_time(from_millis(*event.timestamp)) : nlohmann::json(nullptr);
      list.push_back(std::move(item));
    }
    print_json({{"ReplicationTaskArn", task.replication_task_arn.value_or("")},
                {"LogGroupName", location.group},
                {"LogStreamName", location.stream},
                {"Events", std::move(list)}});
    return;
  }
  for (const auto& event : events) {
    std::string message = event.message.value_or("");
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
    const std::string when =
        event.timestamp ? dms::format_iso8601(from_millis(*event.timestamp)) : std::string("-");
    fmt::print("{} {}\n", when, message);
  }
}

}  // namespace

void add_logs_commands(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<LogsOptions>();
  CLI::App* logs = app.add_subcommand("logs", "Show the newest lines of a task's CloudWatch log");
  logs->add_option("task", options->task, "Task identifier or ARN")->required();
  logs->add_option("--tail", options->tail, "How many of the newest events to show (default 50)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10000}));
  logs->callback([&context, options] {
    context.action = [&context, options] { show_logs(context, *options); };
  });
}

}  // namespace dagster_dms::dmsctl
