#pragma once

#include <nlohmann/json.hpp>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// Replication tasks: CreateReplicationTask, DescribeReplicationTasks, ModifyReplicationTask,
// DeleteReplicationTask, DescribeTableStatistics; a new task is `creating`, then `ready`.
// Their runs are TaskRuns'.
class Tasks {
 public:
  explicit Tasks(ControlPlane& plane);

  void add_operations(OperationTable& table);

 private:
  nlohmann::json create(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json modify(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json remove(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_table_statistics(const RequestContext& context,
                                           const nlohmann::json& body);

  ControlPlane& plane_;
};

}  // namespace dagster_dms::server
