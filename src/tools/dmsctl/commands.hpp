#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "client_factory.hpp"
#include "diagnostics.hpp"
#include "output.hpp"

namespace dagster_dms::dmsctl {

// What the command groups share. CLI11 fills `global` while parsing; the chosen subcommand's
// callback stores its work in `action`, which main() runs after parsing so that every failure,
// from any command, is turned into an exit code in one place.
struct CommandContext {
  GlobalOptions global;
  ClientFactory clients{global};
  std::function<void()> action;

  [[nodiscard]] OutputFormat format() const { return parse_output_format(global.output); }
  [[nodiscard]] bool json() const { return format() == OutputFormat::kJson; }
};

// One registration function per command group; each adds its subcommand tree to `app`.
void add_tasks_commands(CLI::App& app, CommandContext& context);
void add_endpoints_commands(CLI::App& app, CommandContext& context);
void add_instances_commands(CLI::App& app, CommandContext& context);
void add_replications_commands(CLI::App& app, CommandContext& context);
void add_logs_commands(CLI::App& app, CommandContext& context);
void add_metrics_commands(CLI::App& app, CommandContext& context);
void add_events_commands(CLI::App& app, CommandContext& context);
void add_assessments_commands(CLI::App& app, CommandContext& context);
void add_tables_commands(CLI::App& app, CommandContext& context);

}  // namespace dagster_dms::dmsctl
