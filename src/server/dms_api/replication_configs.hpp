#pragma once

#include <nlohmann/json.hpp>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// DMS Serverless: CreateReplicationConfig, DescribeReplicationConfigs, ModifyReplicationConfig,
// DeleteReplicationConfig, DescribeReplications, DescribeReplicationTableStatistics.
//
// A replication config is stored with its one replication (internal["replication"], the
// Replication object's public fields): DescribeReplications lists it from creation on, in status
// `created`, as the service does. Its runs are ReplicationRuns'.
class ReplicationConfigs {
 public:
  explicit ReplicationConfigs(ControlPlane& plane) : plane_(plane) {}

  void add_operations(OperationTable& table);

 private:
  nlohmann::json create(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json modify(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json remove(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_replications(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_replication_table_statistics(const RequestContext& context,
                                                       const nlohmann::json& body);

  ControlPlane& plane_;
};

}  // namespace dagster_dms::server
