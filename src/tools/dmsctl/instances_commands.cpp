// dmsctl instances: list.

#include <string>
#include <vector>

#include "commands.hpp"
#include "filter_options.hpp"
#include "orchestrate/discovery.hpp"
#include "output.hpp"

namespace dagster_dms::dmsctl {
namespace {

void list_instances(CommandContext& context, const FilterOptions& filters) {
  const orchestrate::ResourceFilter filter = build_filter(filters);
  orchestrate::Discovery discovery(context.clients.dms());
  const auto found = discovery.instances(filter);
  for (const auto& warning : found.warnings) warn(warning);
  const bool with_tags = has_tag_filter(filters);
  if (context.json()) {
    nlohmann::json instances = nlohmann::json::array();
    for (const auto& item : found.items) {
      nlohmann::json instance = dms::to_redacted_json(item.resource);
      if (with_tags) instance["Tags"] = tags_json(item.tags);
      instances.push_back(std::move(instance));
    }
    print_json({{"ReplicationInstances", std::move(instances)}});
    return;
  }
  std::vector<std::string> headers = {"IDENTIFIER", "CLASS",  "STATUS", "ENGINE", "STORAGE GB",
                                      "MULTI-AZ",   "PUBLIC", "ZONE",   "ARN"};
  if (with_tags) headers.insert(headers.end() - 1, "TAGS");
  Table table(headers);
  for (const auto& item : found.items) {
    const auto& i = item.resource;
    std::vector<std::string> row = {cell(i.replication_instance_identifier),
                                    cell(i.replication_instance_class),
                                    cell(i.replication_instance_status),
                                    cell(i.engine_version),
                                    cell(i.allocated_storage),
                                    cell(i.multi_az),
                                    cell(i.publicly_accessible),
                                    cell(i.availability_zone),
                                    cell(i.replication_instance_arn)};
    if (with_tags) row.insert(row.end() - 1, tags_cell(item.tags));
    table.add_row(std::move(row));
  }
  table.print();
}

}  // namespace

void add_instances_commands(CLI::App& app, CommandContext& context) {
  CLI::App* instances = app.add_subcommand("instances", "Replication instances");
  instances->require_subcommand(1);

  auto filters = std::make_shared<FilterOptions>();
  CLI::App* list = instances->add_subcommand("list", "List replication instances");
  add_filter_options(*list, *filters);
  list->callback([&context, filters] {
    context.action = [&context, filters] { list_instances(context, *filters); };
  });
}

}  // namespace dagster_dms::dmsctl
