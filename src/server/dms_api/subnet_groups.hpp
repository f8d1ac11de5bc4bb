#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// The ReplicationSubnetGroup document a new replication instance carries for the subnet group it
// names (absent: none); ResourceNotFoundFault when the caller has no such group.
std::optional<nlohmann::json> subnet_group_of_new_instance(
    ControlPlane& plane, const RequestContext& context,
    const std::optional<std::string>& subnet_group_identifier);

}  // namespace dagster_dms::server
