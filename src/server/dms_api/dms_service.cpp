#include "server/dms_api/dms_service.hpp"

#include <fmt/format.h>

#include <map>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

DmsService::DmsService(Store& store, TaskExecutor& executor, const aws::Clock& clock,
                       ServiceOptions options)
    : store_(store), executor_(executor), clock_(clock), options_(options) {}

DmsService::~DmsService() {
  scheduler_.shutdown();
  background_.shutdown();
}

nlohmann::json DmsService::handle(const RequestContext& context, const std::string& operation,
                                  const nlohmann::json& body) {
  static const std::map<std::string, Handler, std::less<>> kHandlers = {
      {"CreateEndpoint", &DmsService::create_endpoint},
      {"DescribeEndpoints", &DmsService::describe_endpoints},
      {"ModifyEndpoint", &DmsService::modify_endpoint},
      {"DeleteEndpoint", &DmsService::delete_endpoint},
      {"CreateReplicationInstance", &DmsService::create_instance},
      {"DescribeReplicationInstances", &DmsService::describe_instances},
      {"ModifyReplicationInstance", &DmsService::modify_instance},
      {"DeleteReplicationInstance", &DmsService::delete_instance},
      {"CreateReplicationTask", &DmsService::create_task},
      {"DescribeReplicationTasks", &DmsService::describe_tasks},
      {"ModifyReplicationTask", &DmsService::modify_task},
      {"DeleteReplicationTask", &DmsService::delete_task},
      {"StartReplicationTask", &DmsService::start_task},
      {"StopReplicationTask", &DmsService::stop_task},
      {"DescribeTableStatistics", &DmsService::describe_table_statistics},
      {"AddTagsToResource", &DmsService::add_tags},
      {"RemoveTagsFromResource", &DmsService::remove_tags},
      {"ListTagsForResource", &DmsService::list_tags},
      {"DescribeAccountAttributes", &DmsService::describe_account_attributes},
      {"TestConnection", &DmsService::test_connection},
      {"DescribeConnections", &DmsService::describe_connections},
      {"ReloadTables", &DmsService::reload_tables},
      {"ReloadReplicationTables", &DmsService::reload_replication_tables},
      {"CreateReplicationConfig", &DmsService::create_replication_config},
      {"DescribeReplicationConfigs", &DmsService::describe_replication_configs},
      {"ModifyReplicationConfig", &DmsService::modify_replication_config},
      {"DeleteReplicationConfig", &DmsService::delete_replication_config},
      {"StartReplication", &DmsService::start_replication},
      {"StopReplication", &DmsService::stop_replication},
      {"DescribeReplications", &DmsService::describe_replications},
      {"DescribeReplicationTableStatistics", &DmsService::describe_replication_table_statistics},
  };
  const auto handler = kHandlers.find(operation);
  if (handler == kHandlers.end()) {
    throw ApiError(400, "UnknownOperationException",
                   fmt::format("Operation {} is not supported by dms-local.", operation));
  }
  if (!body.is_object())
    throw ApiError(400, "SerializationException", "Start of structure expected");

  std::vector<std::function<void()>> deferred;
  nlohmann::json result;
  {
    const std::lock_guard lock(mutex_);
    deferred_.clear();
    try {
      store_.transaction([&] { result = (this->*(handler->second))(context, body); });
    } catch (...) {
      deferred_.clear();
      throw;
    }
    deferred.swap(deferred_);
  }
  for (auto& work : deferred) work();
  return result;
}

Record DmsService::require(const RequestContext& context, ResourceKind kind,
                           const std::string& arn) {
  auto record = store_.find_by_arn(kind, arn);
  if (!record || record->account != context.account || record->region != context.region) {
    switch (kind) {
      case ResourceKind::kEndpoint:
        throw not_found(fmt::format("Endpoint {} not found", arn));
      case ResourceKind::kInstance:
        throw not_found(fmt::format("Replication instance {} not found", arn));
      case ResourceKind::kTask:
        throw not_found(fmt::format("Replication Task {} not found", arn));
      case ResourceKind::kConnection:
        throw not_found(fmt::format("Connection {} not found", arn));
      case ResourceKind::kReplicationConfig:
        throw not_found(fmt::format("Replication config {} not found", arn));
    }
  }
  refresh(kind, *record);
  return *record;
}

std::vector<Record> DmsService::replication_instances() {
  const std::lock_guard lock(mutex_);
  auto records = store_.list_all(ResourceKind::kInstance);
  for (auto& record : records) refresh(ResourceKind::kInstance, record);
  return records;
}

void DmsService::refresh(ResourceKind kind, Record& record) {
  const auto ready_at = record.internal.value("ready_at_ms", std::int64_t{0});
  if (now_millis() < ready_at) return;
  const auto instance_status = record.doc.value("ReplicationInstanceStatus", "");
  if (kind == ResourceKind::kInstance &&
      (instance_status == "creating" || instance_status == "modifying")) {
    record.doc["ReplicationInstanceStatus"] = "available";
    store_.update(kind, record);
  } else if (kind == ResourceKind::kTask && record.doc.value("Status", "") == "creating") {
    record.doc["Status"] = "ready";
    store_.update(kind, record);
  }
}

std::vector<Record> DmsService::list_refreshed(const RequestContext& context, ResourceKind kind) {
  auto records = store_.list(kind, context.account, context.region);
  for (auto& record : records) refresh(kind, record);
  return records;
}

void DmsService::put_request_tags(const std::string& arn,
                                  const std::optional<std::vector<dms::Tag>>& tags) {
  if (!tags) return;
  Store::Tags pairs;
  for (const auto& tag : *tags) {
    if (!tag.key || tag.key->empty()) throw invalid_parameter("Tag keys must not be empty.");
    pairs.emplace_back(*tag.key, tag.value.value_or(""));
  }
  store_.put_tags(arn, pairs);
}

nlohmann::json DmsService::now_json() const {
  return dms::timestamp_to_json(clock_.now());
}

std::int64_t DmsService::now_millis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

void move_secrets(nlohmann::json& doc, nlohmann::json& internal) {
  if (!doc.is_object()) return;
  for (auto it = doc.begin(); it != doc.end();) {
    const std::string& key = it.key();
    const bool secret = (key.size() >= 8 && key.compare(key.size() - 8, 8, "Password") == 0) ||
                        key == "SecurityDbEncryption";
    if (secret) {
      internal[key] = it.value();
      it = doc.erase(it);
    } else {
      if (it->is_object()) move_secrets(*it, internal[key]);
      if (internal.contains(key) &&
          (internal[key].is_null() || (internal[key].is_object() && internal[key].empty()))) {
        internal.erase(key);
      }
      ++it;
    }
  }
}

}  // namespace dagster_dms::server
