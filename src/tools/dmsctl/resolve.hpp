#pragma once

#include <string>
#include <string_view>

#include "dms/dms_client.hpp"

namespace dagster_dms::dmsctl {

// Every command names a task, endpoint, instance or replication config by identifier or by ARN;
// a name that starts with "arn:" is an ARN.
bool is_arn(std::string_view name);

// The resource id of an ARN: what follows its last ':' ("arn:aws:dms:...:task:ABC" -> "ABC").
std::string arn_resource_id(std::string_view arn);

// Each find_* answers the one resource with that identifier or ARN, or throws a
// ResourceNotFoundFault ServiceError that names the resource and the region (DMS itself answers an
// unmatched filter with "No Tasks found matching provided filters", which names neither).
dms::ReplicationTask find_task(dms::DmsClient& client, const std::string& name, bool with_settings);
dms::Endpoint find_endpoint(dms::DmsClient& client, const std::string& name);
dms::ReplicationInstance find_instance(dms::DmsClient& client, const std::string& name);
dms::ReplicationConfig find_replication_config(dms::DmsClient& client, const std::string& name);

}  // namespace dagster_dms::dmsctl
