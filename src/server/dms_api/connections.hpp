#pragma once

#include <string>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// A connection is the last TestConnection of one endpoint from one replication instance
// (`testing`, then `successful` or `failed`); its operations are in resources.hpp.

// The connections of an endpoint or instance that is being deleted go with it.
void remove_connections_of(Store& store, const RequestContext& context, const std::string& arn);

// At start-up, with the lock held: a test that was running when the process died comes back
// failed.
void fail_interrupted_connection_tests(Store& store);

}  // namespace dagster_dms::server
