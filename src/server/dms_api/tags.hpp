#pragma once

#include <nlohmann/json.hpp>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// AddTagsToResource, RemoveTagsFromResource, ListTagsForResource and
// DescribeAccountAttributes (the account's quotas and their use).
class Tags {
 public:
  explicit Tags(ControlPlane& plane) : plane_(plane) {}

  void add_operations(OperationTable& table);

 private:
  nlohmann::json add(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json remove(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json list(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_account_attributes(const RequestContext& context,
                                             const nlohmann::json& body);

  ControlPlane& plane_;
};

}  // namespace dagster_dms::server
