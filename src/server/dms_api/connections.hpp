#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// TestConnection, DescribeConnections: a connection is the last test of one endpoint from one
// replication instance (`testing`, then `successful` or `failed`). The test really connects, on
// a background thread, as DMS's does.
class Connections {
 public:
  explicit Connections(ControlPlane& plane) : plane_(plane) {}

  void add_operations(OperationTable& table);
  // At start-up, with the lock held: a test that was running when the process died comes back
  // failed.
  void fail_interrupted_tests();

 private:
  nlohmann::json test(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe(const RequestContext& context, const nlohmann::json& body);
  void finish_test(const std::string& key, std::int64_t test_id,
                   const std::optional<std::string>& failure);

  ControlPlane& plane_;
};

// The connections of an endpoint or instance that is being deleted go with it.
void remove_connections_of(Store& store, const RequestContext& context, const std::string& arn);

}  // namespace dagster_dms::server
