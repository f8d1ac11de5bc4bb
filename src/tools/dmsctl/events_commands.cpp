// dmsctl events: the DMS events of the past minutes (DescribeEvents), oldest first.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "output.hpp"

namespace dagster_dms::dmsctl {
namespace {

struct EventsOptions {
  std::string source_type;
  std::string source_id;
  std::vector<std::string> categories;
  std::int64_t minutes = 60;
};

void show_events(CommandContext& context, const EventsOptions& options) {
  if (!options.source_id.empty() && options.source_type.empty()) {
    throw UsageError("--source-id needs --source-type");
  }
  dms::DescribeEventsMessage request;
  if (!options.source_type.empty()) request.source_type = options.source_type;
  if (!options.source_id.empty()) request.source_identifier = options.source_id;
  if (!options.categories.empty()) request.event_categories = options.categories;
  request.duration = options.minutes;
  const auto events = context.clients.dms().describe_events_all(request);
  if (context.json()) {
    nlohmann::json listed = nlohmann::json::array();
    for (const auto& event : events) listed.push_back(dms::to_redacted_json(event));
    print_json({{"Events", std::move(listed)}});
    return;
  }
  Table table({"DATE", "SOURCE TYPE", "SOURCE", "CATEGORIES", "MESSAGE"});
  for (const auto& event : events) {
    table.add_row(
        {cell(event.date), cell(event.source_type), cell(event.source_identifier),
         fmt::format("{}",
                     fmt::join(event.event_categories.value_or(std::vector<std::string>{}), ",")),
         cell(event.message)});
  }
  table.print();
}

}  // namespace

void add_events_commands(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<EventsOptions>();
  CLI::App* events =
      app.add_subcommand("events", "List DMS events of tasks and instances (DescribeEvents)");
  events
      ->add_option("--source-type", options->source_type,
                   "replication-task or replication-instance")
      ->check(CLI::IsMember({"replication-task", "replication-instance"}));
  events->add_option("--source-id", options->source_id,
                     "Only the events of this task or instance identifier (needs --source-type)");
  events->add_option("--category", options->categories,
                     "Only events of this category (repeatable), e.g. \"state change\"");
  events->add_option("--minutes", options->minutes, "How far back to look (default 60)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{20160}));
  events->callback([&context, options] {
    context.action = [&context, options] { show_events(context, *options); };
  });
}

}  // namespace dagster_dms::dmsctl
