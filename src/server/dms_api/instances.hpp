#pragma once

#include <nlohmann/json.hpp>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// Replication instances: CreateReplicationInstance, DescribeReplicationInstances,
// ModifyReplicationInstance, DeleteReplicationInstance. A new instance is `creating`, a change
// applied immediately makes it `modifying`; both become `available` after
// instance_create_delay.
class Instances {
 public:
  explicit Instances(ControlPlane& plane);

  void add_operations(OperationTable& table);

 private:
  nlohmann::json create(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json modify(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json remove(const RequestContext& context, const nlohmann::json& body);

  ControlPlane& plane_;
};

}  // namespace dagster_dms::server
