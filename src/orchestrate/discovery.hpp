#pragma once

#include <map>
#include <string>
#include <vector>

#include "dms/dms_client.hpp"
#include "orchestrate/resource_filter.hpp"

namespace dagster_dms::orchestrate {

using Tags = std::map<std::string, std::string>;

template <class Resource>
struct Discovered {
  Resource resource;
  Tags tags;  // filled when tags were read (a tag filter, or DiscoveryOptions::read_tags)
};

struct DiscoveryOptions {
  // Read tags even when no tag filter needs them (the component shows them on assets).
  bool read_tags = false;
  // Ask DescribeReplicationTasks for table mappings and task settings too (larger answers, the
  // same number of calls): the component summarizes mappings and notices validation.
  bool with_settings = false;
  // Also return what the filters left out (without tags), for callers that need every resource's
  // name as well as the selection: one listing instead of two.
  bool keep_unselected = false;
};

// What one listing found, and what a user should be told about the filters.
template <class Resource>
struct DiscoveryResult {
  std::vector<Discovered<Resource>> items;
  std::size_t listed = 0;            // before filtering
  std::vector<Resource> unselected;  // filtered out; only with DiscoveryOptions::keep_unselected
  std::vector<std::string> warnings;
};

// Lists DMS resources and applies name and tag filters. Names are filtered before tags are read,
// so tag look-ups (ListTagsForResource, batched) are made only for the names that passed.
class Discovery {
 public:
  explicit Discovery(dms::DmsClient& client) : client_(client) {}

  DiscoveryResult<dms::ReplicationTask> tasks(const ResourceFilter& filter,
                                              const DiscoveryOptions& options = {});
  DiscoveryResult<dms::Endpoint> endpoints(const ResourceFilter& filter,
                                           const DiscoveryOptions& options = {});
  DiscoveryResult<dms::ReplicationInstance> instances(const ResourceFilter& filter,
                                                      const DiscoveryOptions& options = {});
  DiscoveryResult<dms::ReplicationConfig> replication_configs(const ResourceFilter& filter,
                                                              const DiscoveryOptions& options = {});

 private:
  dms::DmsClient& client_;
};

// Turns the API's tag list into a map.
Tags to_tag_map(const std::vector<dms::Tag>& tags);

}  // namespace dagster_dms::orchestrate
