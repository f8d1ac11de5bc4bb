#include "orchestrate/discovery.hpp"

#include <fmt/format.h>

#include "aws/errors.hpp"

namespace dagster_dms::orchestrate {
namespace {

template <class Resource, class IdOf, class ArnOf>
DiscoveryResult<Resource> filter_resources(dms::DmsClient& client, std::vector<Resource> listed,
                                           const ResourceFilter& filter,
                                           const DiscoveryOptions& options, std::string_view kind,
                                           IdOf id_of, ArnOf arn_of) {
  DiscoveryResult<Resource> result;
  result.listed = listed.size();
  std::vector<Discovered<Resource>> kept;
  for (auto& resource : listed) {
    if (filter.matches_name(id_of(resource))) {
      kept.push_back({std::move(resource), {}});
    } else if (options.keep_unselected) {
      result.unselected.push_back(std::move(resource));
    }
  }
  if ((filter.needs_tags() || options.read_tags) && !kept.empty()) {
    std::vector<std::string> arns;
    arns.reserve(kept.size());
    for (const auto& item : kept) arns.push_back(arn_of(item.resource));
    std::map<std::string, std::vector<dms::Tag>> tags;
    try {
      tags = client.tags_for_resources(arns);
    } catch (const aws::ServiceError& error) {
      // Without a tag filter the tags only feed the translation's props: a refresh denied
      // dms:ListTagsForResource goes on without them and says so. A tag filter needs them.
      if (filter.needs_tags() || !error.is_access_denied()) throw;
      result.warnings.push_back(
          fmt::format("dms:ListTagsForResource is not allowed: the {} are listed without their "
                      "tags (props.tags is empty; a tag filter would fail)",
                      kind));
    }
    for (auto& item : kept) {
      auto it = tags.find(arn_of(item.resource));
      if (it != tags.end()) item.tags = to_tag_map(it->second);
    }
    std::vector<Discovered<Resource>> tagged;
    for (auto& item : kept) {
      if (filter.matches_tags(item.tags)) {
        tagged.push_back(std::move(item));
      } else if (options.keep_unselected) {
        result.unselected.push_back(std::move(item.resource));
      }
    }
    kept = std::move(tagged);
  }
  result.items = std::move(kept);
  if (result.listed > 0 && result.items.empty()) {
    result.warnings.push_back(fmt::format(
        "the filters matched none of the {} {} in this account and region", result.listed, kind));
  }
  return result;
}

}  // namespace

Tags to_tag_map(const std::vector<dms::Tag>& tags) {
  Tags map;
  for (const auto& tag : tags) {
    if (tag.key) map[*tag.key] = tag.value.value_or("");
  }
  return map;
}

DiscoveryResult<dms::ReplicationTask> Discovery::tasks(const ResourceFilter& filter,
                                                       const DiscoveryOptions& options) {
  dms::DescribeReplicationTasksMessage request;
  request.without_settings = !options.with_settings;
  return filter_resources(
      client_, client_.describe_replication_tasks_all(request), filter, options,
      "replication tasks",
      [](const dms::ReplicationTask& t) { return t.replication_task_identifier.value_or(""); },
      [](const dms::ReplicationTask& t) { return t.replication_task_arn.value_or(""); });
}

DiscoveryResult<dms::Endpoint> Discovery::endpoints(const ResourceFilter& filter,
                                                    const DiscoveryOptions& options) {
  return filter_resources(
      client_, client_.describe_endpoints_all(), filter, options, "endpoints",
      [](const dms::Endpoint& e) { return e.endpoint_identifier.value_or(""); },
      [](const dms::Endpoint& e) { return e.endpoint_arn.value_or(""); });
}

DiscoveryResult<dms::ReplicationInstance> Discovery::instances(const ResourceFilter& filter,
                                                               const DiscoveryOptions& options) {
  return filter_resources(
      client_, client_.describe_replication_instances_all(), filter, options,
      "replication instances",
      [](const dms::ReplicationInstance& i) {
        return i.replication_instance_identifier.value_or("");
      },
      [](const dms::ReplicationInstance& i) { return i.replication_instance_arn.value_or(""); });
}

DiscoveryResult<dms::ReplicationConfig> Discovery::replication_configs(
    const ResourceFilter& filter, const DiscoveryOptions& options) {
  return filter_resources(
      client_, client_.describe_replication_configs_all(), filter, options,
      "serverless replication configs",
      [](const dms::ReplicationConfig& c) { return c.replication_config_identifier.value_or(""); },
      [](const dms::ReplicationConfig& c) { return c.replication_config_arn.value_or(""); });
}

}  // namespace dagster_dms::orchestrate
