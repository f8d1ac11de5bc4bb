#include "server/dms_api/dms_service.hpp"

#include <fmt/format.h>

#include <string_view>

#include "server/dms_api/assessment_runs.hpp"
#include "server/dms_api/connections.hpp"
#include "server/dms_api/replication_runs.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/schemas.hpp"
#include "server/dms_api/task_runs.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// Describe* and List* operations only read, apart from the due status changes they record.
bool is_read_operation(std::string_view operation) {
  return operation.starts_with("Describe") || operation.starts_with("List");
}

}  // namespace

DmsService::DmsService(Store& store, TaskExecutor& executor, const aws::Clock& clock,
                       ServiceOptions options)
    : plane_(store, executor, clock, std::move(options)) {
  register_endpoints(plane_, operations_);
  register_instances(plane_, operations_);
  register_tasks(plane_, operations_);
  register_task_runs(plane_, operations_);
  register_replication_configs(plane_, operations_);
  register_replication_runs(plane_, operations_);
  register_connections(plane_, operations_);
  register_tags(plane_, operations_);
  register_table_reload(plane_, operations_);
  register_subnet_groups(plane_, operations_);
  register_service_catalog(plane_, operations_);
  register_instance_reboot(plane_, operations_);
  register_events(plane_, operations_);
  register_certificates(plane_, operations_);
  register_schemas(plane_, operations_);
  register_task_move(plane_, operations_);
  register_instance_task_logs(plane_, operations_);
  register_maintenance(plane_, operations_);
  register_unsupported_features(operations_);
  register_assessment_runs(plane_, operations_);
}

DmsService::~DmsService() {
  // Scheduled and background work call into the resources: it ends before they go away.
  plane_.scheduler.shutdown();
  plane_.background.shutdown();
}

nlohmann::json DmsService::handle(const RequestContext& context, const std::string& operation,
                                  const nlohmann::json& body) {
  const auto handler = operations_.find(operation);
  if (handler == operations_.end()) {
    throw ApiError(400, "UnknownOperationException",
                   fmt::format("Operation {} is not supported by dms-local.", operation));
  }
  if (!body.is_object())
    throw ApiError(400, "SerializationException", "Start of structure expected");

  if (is_read_operation(operation)) {
    try {
      // Readers answer from a snapshot beside the writers instead of queueing behind them.
      const Store::ReadScope snapshot(plane_.store);
      return handler->second(context, body);
    } catch (const WriteInReadScope&) {
      // A due status change to record (creating -> available, ...): answered as a writer.
    }
  }
  std::vector<std::function<void()>> deferred;
  nlohmann::json result;
  {
    const std::lock_guard lock(plane_.mutex);
    plane_.drop_deferred();
    try {
      plane_.store.transaction([&] { result = handler->second(context, body); });
    } catch (...) {
      plane_.drop_deferred();
      throw;
    }
    deferred = plane_.take_deferred();
  }
  for (auto& work : deferred) work();
  return result;
}

void DmsService::recover_interrupted_tasks() {
  const std::lock_guard lock(plane_.mutex);
  plane_.store.transaction([&] {
    RunLifecycle<TaskRunShape>(plane_).fail_interrupted_runs();
    RunLifecycle<ReplicationRunShape>(plane_).fail_interrupted_runs();
    fail_interrupted_connection_tests(plane_.store);
    fail_interrupted_schema_refreshes(plane_.store);
    fail_interrupted_assessment_runs(plane_.store);
  });
}

void DmsService::shutdown() {
  plane_.scheduler.shutdown();
  plane_.background.shutdown();
  std::vector<std::string> executing;
  {
    const std::lock_guard lock(plane_.mutex);
    if (plane_.shutting_down) return;
    plane_.shutting_down = true;
    plane_.store.transaction([&] {
      RunLifecycle<TaskRunShape>(plane_).stop_for_shutdown(executing);
      RunLifecycle<ReplicationRunShape>(plane_).stop_for_shutdown(executing);
    });
  }
  for (const auto& arn : executing) plane_.executor.stop(arn);
  plane_.executor.shutdown();
}

std::vector<Record> DmsService::replication_instances() {
  const std::lock_guard lock(plane_.mutex);
  return plane_.list_all_refreshed(ResourceKind::kInstance);
}

std::optional<Record> DmsService::find_by_identifier(const RequestContext& context,
                                                     ResourceKind kind,
                                                     const std::string& identifier) {
  const std::lock_guard lock(plane_.mutex);
  return plane_.store.find_by_identifier(kind, context.account, context.region, identifier);
}

void DmsService::make_usable_now(ResourceKind kind, const std::string& arn) {
  const std::lock_guard lock(plane_.mutex);
  if (auto record = plane_.store.find_by_arn(kind, arn)) {
    record->internal["ready_at_ms"] = 0;
    plane_.store.update(kind, *record);
  }
}

}  // namespace dagster_dms::server
