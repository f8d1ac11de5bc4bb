// dmsctl replications: DMS Serverless replications (a replication config and its replication).

#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "filter_options.hpp"
#include "orchestrate/discovery.hpp"
#include "orchestrate/task_verdict.hpp"
#include "output.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

const std::vector<std::string> kStartTypes = {"start-replication", "resume-processing",
                                              "reload-target"};

void list_replications(CommandContext& context, const FilterOptions& filters) {
  const orchestrate::ResourceFilter filter = build_filter(filters);
  auto& client = context.clients.dms();
  orchestrate::Discovery discovery(client);
  const auto found = discovery.replication_configs(filter);
  for (const auto& warning : found.warnings) warn(warning);
  // A config that never ran has no replication yet.
  std::map<std::string, dms::Replication> by_config;
  if (!found.items.empty()) {
    for (auto& replication : client.describe_replications_all()) {
      const std::string arn = replication.replication_config_arn.value_or("");
      by_config.emplace(arn, std::move(replication));
    }
  }
  const bool with_tags = has_tag_filter(filters);
  if (context.json()) {
    nlohmann::json configs = nlohmann::json::array();
    nlohmann::json replications = nlohmann::json::array();
    for (const auto& item : found.items) {
      nlohmann::json config = dms::to_redacted_json(item.resource);
      if (with_tags) config["Tags"] = tags_json(item.tags);
      configs.push_back(std::move(config));
      const auto it = by_config.find(item.resource.replication_config_arn.value_or(""));
      if (it != by_config.end()) replications.push_back(dms::to_redacted_json(it->second));
    }
    print_json(
        {{"ReplicationConfigs", std::move(configs)}, {"Replications", std::move(replications)}});
    return;
  }
  Table table({"IDENTIFIER", "TYPE", "STATUS", "STOP REASON", "ARN"});
  for (const auto& item : found.items) {
    const auto& config = item.resource;
    const auto it = by_config.find(config.replication_config_arn.value_or(""));
    const dms::Replication* replication = it == by_config.end() ? nullptr : &it->second;
    std::string stop_reason = "-";
    if (replication && replication->stop_reason && !replication->stop_reason->empty()) {
      stop_reason = std::string(orchestrate::stop_reason_code(*replication->stop_reason));
    }
    table.add_row({cell(config.replication_config_identifier), cell(config.replication_type),
                   replication ? cell(replication->status) : "not started", stop_reason,
                   cell(config.replication_config_arn)});
  }
  table.print();
}

void print_replication(const CommandContext& context, const dms::Replication& replication) {
  if (context.json()) {
    print_json({{"Replication", dms::to_redacted_json(replication)}});
    return;
  }
  Details details;
  details.add("Identifier", replication.replication_config_identifier);
  details.add("Config ARN", replication.replication_config_arn);
  details.add("Type", replication.replication_type);
  details.add("Status", replication.status);
  details.add("Start type", replication.start_replication_type);
  details.add("Stop reason", replication.stop_reason);
  if (replication.failure_messages) {
    for (const auto& message : *replication.failure_messages) details.add("Failure", message);
  }
  if (const auto& stats = replication.replication_stats) {
    details.add("Full load", stats->full_load_progress_percent
                                 ? fmt::format("{}%", *stats->full_load_progress_percent)
                                 : std::string());
  }
  details.print();
}

struct StartOptions {
  std::string config;
  std::optional<std::string> type;
};

void start_replication(CommandContext& context, const StartOptions& options) {
  auto& client = context.clients.dms();
  const dms::ReplicationConfig config = find_replication_config(client, options.config);
  const std::string arn = config.replication_config_arn.value_or(options.config);
  std::string type = options.type.value_or("start-replication");
  if (!options.type) {
    // Like tasks: start-replication is valid only the first time; afterwards continue.
    const auto existing = client.find_replication(arn);
    if (existing && (existing->replication_last_stop_time || existing->stop_reason)) {
      type = "resume-processing";
      note(
          "the replication ran before; sent resume-processing (use --type reload-target to load "
          "the tables again)");
    }
  }
  dms::StartReplicationMessage request;
  request.replication_config_arn = arn;
  request.start_replication_type = type;
  const auto response = client.start_replication(request);
  print_replication(context, response.replication.value_or(dms::Replication{}));
}

void stop_replication(CommandContext& context, const std::string& name) {
  auto& client = context.clients.dms();
  const dms::ReplicationConfig config = find_replication_config(client, name);
  dms::StopReplicationMessage request;
  request.replication_config_arn = config.replication_config_arn.value_or(name);
  const auto response = client.stop_replication(request);
  print_replication(context, response.replication.value_or(dms::Replication{}));
}

}  // namespace

void add_replications_commands(CLI::App& app, CommandContext& context) {
  CLI::App* replications =
      app.add_subcommand("replications", "DMS Serverless replications (replication configs)");
  replications->require_subcommand(1);

  auto filters = std::make_shared<FilterOptions>();
  CLI::App* list = replications->add_subcommand("list", "List replication configs and status");
  add_filter_options(*list, *filters);
  list->callback([&context, filters] {
    context.action = [&context, filters] { list_replications(context, *filters); };
  });

  auto start = std::make_shared<StartOptions>();
  CLI::App* start_cmd = replications->add_subcommand("start", "Start a serverless replication");
  start_cmd->add_option("config", start->config, "Replication config identifier or ARN")
      ->required();
  start_cmd
      ->add_option("--type", start->type,
                   "start-replication, resume-processing or reload-target (default: "
                   "start-replication the first time, resume-processing afterwards)")
      ->check(CLI::IsMember(kStartTypes));
  start_cmd->callback([&context, start] {
    context.action = [&context, start] { start_replication(context, *start); };
  });

  auto stopped = std::make_shared<std::string>();
  CLI::App* stop_cmd = replications->add_subcommand("stop", "Stop a serverless replication");
  stop_cmd->add_option("config", *stopped, "Replication config identifier or ARN")->required();
  stop_cmd->callback([&context, stopped] {
    context.action = [&context, stopped] { stop_replication(context, *stopped); };
  });
}

}  // namespace dagster_dms::dmsctl
