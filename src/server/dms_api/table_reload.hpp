#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// ReloadTables (tasks) and ReloadReplicationTables (serverless): reload a few tables of a
// running replication through the data plane. Both follow the same rules.
class TableReload {
 public:
  explicit TableReload(ControlPlane& plane) : plane_(plane) {}

  void add_operations(OperationTable& table);

 private:
  nlohmann::json reload_task_tables(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json reload_replication_tables(const RequestContext& context,
                                           const nlohmann::json& body);
  void reload_known_tables(const std::string& arn, const std::string& what,
                           const std::vector<dms::TableToReload>& tables);

  ControlPlane& plane_;
};

}  // namespace dagster_dms::server
