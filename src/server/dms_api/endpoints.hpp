#pragma once

#include <nlohmann/json.hpp>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// Endpoints: CreateEndpoint, DescribeEndpoints, ModifyEndpoint, DeleteEndpoint. Passwords are
// kept apart from the public document (endpoint_secrets.hpp).
class Endpoints {
 public:
  explicit Endpoints(ControlPlane& plane) : plane_(plane) {}

  void add_operations(OperationTable& table);

 private:
  nlohmann::json create(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json modify(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json remove(const RequestContext& context, const nlohmann::json& body);

  ControlPlane& plane_;
};

}  // namespace dagster_dms::server
