// CreateReplicationInstance, DescribeReplicationInstances, ModifyReplicationInstance,
// DeleteReplicationInstance.
#include <fmt/format.h>

#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/filters.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/front/api_error.hpp"
#include "server/front/pagination.hpp"
#include "server/front/request_members.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::int64_t kInstanceQuota = 60;
constexpr std::size_t kIdentifierMax = 63;

const FilterSpec kInstanceFilters{{"replication-instance-arn", "replication-instance-id",
                                   "replication-instance-class", "engine-version"},
                                  {}};

void require_class(const std::string& instance_class) {
  if (instance_class.rfind("dms.", 0) != 0 || instance_class.size() <= 4) {
    throw invalid_parameter(fmt::format(
        "Invalid value {} for ReplicationInstanceClass, e.g. dms.t3.medium.", instance_class));
  }
}

void require_storage(std::int64_t allocated_storage) {
  if (allocated_storage < 5 || allocated_storage > 6144) {
    throw invalid_parameter("AllocatedStorage must be between 5 and 6144 GiB.");
  }
}

// The members of ModifyReplicationInstance that DMS applies in the maintenance window unless
// ApplyImmediately is true (ReplicationPendingModifiedValues); the others apply at once.
nlohmann::json deferrable_changes(const dms::ModifyReplicationInstanceMessage& request) {
  nlohmann::json changes = nlohmann::json::object();
  if (request.replication_instance_class) {
    require_class(*request.replication_instance_class);
    changes["ReplicationInstanceClass"] = *request.replication_instance_class;
  }
  if (request.allocated_storage) {
    require_storage(*request.allocated_storage);
    changes["AllocatedStorage"] = *request.allocated_storage;
  }
  if (request.multi_az) changes["MultiAZ"] = *request.multi_az;
  if (const auto version = given(request.engine_version)) changes["EngineVersion"] = *version;
  if (const auto network = given(request.network_type)) changes["NetworkType"] = *network;
  return changes;
}

nlohmann::json public_instance(const Record& record) {
  dms::ReplicationInstance instance;
  dms::from_json(record.doc, instance);
  nlohmann::json out;
  dms::to_json(out, instance);
  return out;
}

}  // namespace

nlohmann::json DmsService::create_instance(const RequestContext& context,
                                           const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateReplicationInstanceMessage>(body);
  require_valid_identifier("ReplicationInstanceIdentifier", request.replication_instance_identifier,
                           kIdentifierMax);
  // DMS stores instance identifiers lower-cased.
  const auto identifier = to_lower(request.replication_instance_identifier);
  require_class(request.replication_instance_class);
  if (request.resource_identifier) {
    require_valid_identifier("ResourceIdentifier", *request.resource_identifier, 31);
  }
  if (request.allocated_storage) require_storage(*request.allocated_storage);
  if (store_.find_by_identifier(ResourceKind::kInstance, context.account, context.region,
                                identifier)) {
    throw already_exists(
        fmt::format("Replication instance with identifier {} already exists", identifier));
  }
  if (store_.count(ResourceKind::kInstance, context.account, context.region) >= kInstanceQuota) {
    throw quota_exceeded(
        fmt::format("Account quota ReplicationInstances ({}) exceeded; delete instances first.",
                    kInstanceQuota));
  }
  Record record;
  record.identifier = identifier;
  record.account = context.account;
  record.region = context.region;
  record.arn = make_arn(context.region, context.account, ResourceKind::kInstance,
                        request.resource_identifier.value_or(random_resource_id()));
  if (store_.find_by_arn(ResourceKind::kInstance, record.arn)) {
    throw already_exists("The ResourceIdentifier is already in use");
  }
  record.doc = {
      {"ReplicationInstanceIdentifier", identifier},
      {"ReplicationInstanceClass", request.replication_instance_class},
      {"ReplicationInstanceStatus", "creating"},
      {"AllocatedStorage", request.allocated_storage.value_or(50)},
      {"InstanceCreateTime", now_json()},
      {"AvailabilityZone", given(request.availability_zone).value_or(context.region + "a")},
      {"PreferredMaintenanceWindow",
       given(request.preferred_maintenance_window).value_or("sun:06:00-sun:14:00")},
      {"PendingModifiedValues", nlohmann::json::object()},
      {"MultiAZ", request.multi_az.value_or(false)},
      {"EngineVersion", given(request.engine_version).value_or("3.5.3")},
      {"AutoMinorVersionUpgrade", request.auto_minor_version_upgrade.value_or(true)},
      {"ReplicationInstanceArn", record.arn},
      {"ReplicationInstancePrivateIpAddress", "127.0.0.1"},
      {"ReplicationInstancePrivateIpAddresses", {"127.0.0.1"}},
      {"PubliclyAccessible", request.publicly_accessible.value_or(false)},
      {"NetworkType", given(request.network_type).value_or("IPV4")},
  };
  if (const auto key = given(request.kms_key_id)) record.doc["KmsKeyId"] = *key;
  record.internal["ready_at_ms"] = now_millis() + options_.instance_create_delay.count();
  store_.insert(ResourceKind::kInstance, record);
  put_request_tags(record.arn, request.tags);
  return {{"ReplicationInstance", public_instance(record)}};
}

nlohmann::json DmsService::describe_instances(const RequestContext& context,
                                              const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationInstancesMessage>(body);
  validate_filters(request.filters, kInstanceFilters);
  std::vector<Record> matched;
  std::vector<std::string> keys;
  for (auto& record : list_refreshed(context, ResourceKind::kInstance)) {
    const bool match =
        matches_filters(request.filters, kInstanceFilters, [&](std::string_view name) {
          if (name == "replication-instance-arn") return std::vector<std::string>{record.arn};
          if (name == "replication-instance-id") return std::vector<std::string>{record.identifier};
          if (name == "replication-instance-class") {
            return std::vector<std::string>{record.doc.value("ReplicationInstanceClass", "")};
          }
          return std::vector<std::string>{record.doc.value("EngineVersion", "")};
        });
    if (!match) continue;
    keys.push_back(record.identifier);
    matched.push_back(std::move(record));
  }
  if (matched.empty() && has_filters(request.filters)) {
    throw not_found("No replication instances found matching provided filters");
  }
  const auto window = page_window(keys, request.max_records, request.marker, {});
  nlohmann::json instances = nlohmann::json::array();
  for (auto i = window.begin; i < window.end; ++i) instances.push_back(public_instance(matched[i]));
  nlohmann::json out = {{"ReplicationInstances", instances}};
  if (window.next_marker) out["Marker"] = *window.next_marker;
  return out;
}

nlohmann::json DmsService::modify_instance(const RequestContext& context,
                                           const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyReplicationInstanceMessage>(body);
  auto record = require(context, ResourceKind::kInstance, request.replication_instance_arn);
  if (record.doc.value("ReplicationInstanceStatus", "") != "available") {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", record.identifier));
  }
  if (request.replication_instance_identifier) {
    require_valid_identifier("ReplicationInstanceIdentifier",
                             *request.replication_instance_identifier, kIdentifierMax);
    const auto identifier = to_lower(*request.replication_instance_identifier);
    if (identifier != record.identifier &&
        store_.find_by_identifier(ResourceKind::kInstance, context.account, context.region,
                                  identifier)) {
      throw already_exists(
          fmt::format("Replication instance with identifier {} already exists", identifier));
    }
    record.identifier = identifier;
    record.doc["ReplicationInstanceIdentifier"] = identifier;
  }
  if (request.auto_minor_version_upgrade) {
    record.doc["AutoMinorVersionUpgrade"] = *request.auto_minor_version_upgrade;
  }
  if (const auto window = given(request.preferred_maintenance_window)) {
    record.doc["PreferredMaintenanceWindow"] = *window;
  }
  // Without ApplyImmediately (false by default) DMS keeps these changes pending until the
  // maintenance window. No window ever comes in dms-local: they stay pending until a
  // ModifyReplicationInstance with ApplyImmediately=true applies them with its own changes.
  auto pending = record.doc.value("PendingModifiedValues", nlohmann::json::object());
  pending.update(deferrable_changes(request));
  if (request.apply_immediately.value_or(false)) {
    if (!pending.empty()) {
      record.doc.update(pending);
      record.doc["ReplicationInstanceStatus"] = "modifying";
      record.internal["ready_at_ms"] = now_millis() + options_.instance_create_delay.count();
    }
    pending = nlohmann::json::object();
  }
  record.doc["PendingModifiedValues"] = pending;
  store_.update(ResourceKind::kInstance, record);
  return {{"ReplicationInstance", public_instance(record)}};
}

nlohmann::json DmsService::delete_instance(const RequestContext& context,
                                           const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationInstanceMessage>(body);
  auto record = require(context, ResourceKind::kInstance, request.replication_instance_arn);
  for (const auto& task : store_.list(ResourceKind::kTask, context.account, context.region)) {
    if (task.doc.value("ReplicationInstanceArn", "") == record.arn) {
      throw invalid_state(fmt::format(
          "Replication instance {} has replication tasks; delete them first (for example {}).",
          record.identifier, task.identifier));
    }
  }
  remove_connections(context, record.arn);
  store_.remove(ResourceKind::kInstance, record.arn);
  record.doc["ReplicationInstanceStatus"] = "deleting";
  return {{"ReplicationInstance", public_instance(record)}};
}

}  // namespace dagster_dms::server
