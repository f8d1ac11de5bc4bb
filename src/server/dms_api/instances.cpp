#include <fmt/format.h>

#include "server/dms_api/connections.hpp"
#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/events.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/subnet_groups.hpp"
#include "server/front/api_error.hpp"
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
  return public_document<dms::ReplicationInstance>(record.doc);
}

nlohmann::json create_instance(ControlPlane& plane, const RequestContext& context,
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
  const auto subnet_group =
      subnet_group_of_new_instance(plane, context, request.replication_subnet_group_identifier);
  if (plane.store.find_by_identifier(ResourceKind::kInstance, context.account, context.region,
                                     identifier)) {
    throw already_exists(
        fmt::format("Replication instance with identifier {} already exists", identifier));
  }
  if (plane.store.count(ResourceKind::kInstance, context.account, context.region) >=
      kInstanceQuota) {
    throw quota_exceeded(
        fmt::format("Account quota ReplicationInstances ({}) exceeded; delete instances first.",
                    kInstanceQuota));
  }
  auto record =
      plane.new_record(context, ResourceKind::kInstance, identifier, request.resource_identifier);
  record.doc = {
      {"ReplicationInstanceIdentifier", identifier},
      {"ReplicationInstanceClass", request.replication_instance_class},
      {"AllocatedStorage", request.allocated_storage.value_or(50)},
      {"InstanceCreateTime", plane.now_json()},
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
  set_status(record.doc, InstanceStatus::kCreating);
  if (const auto key = given(request.kms_key_id)) record.doc["KmsKeyId"] = *key;
  if (subnet_group) record.doc["ReplicationSubnetGroup"] = *subnet_group;
  record.internal["ready_at_ms"] = plane.now_millis() + plane.options.instance_create_delay.count();
  plane.store.insert(ResourceKind::kInstance, record);
  record_event(plane, record, DmsEvent::kInstanceCreating);
  plane.put_request_tags(record.arn, request.tags);
  return {{"ReplicationInstance", public_instance(record)}};
}

nlohmann::json describe_instances(ControlPlane& plane, const RequestContext& context,
                                  const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationInstancesMessage>(body);
  return describe_page(
      plane.list_refreshed(context, ResourceKind::kInstance), DescribeRequest::of(request),
      {kInstanceFilters, "No replication instances found matching provided filters"},
      "ReplicationInstances",
      [](const Record& record, std::string_view name) {
        if (name == "replication-instance-arn") return std::vector<std::string>{record.arn};
        if (name == "replication-instance-id") return std::vector<std::string>{record.identifier};
        if (name == "replication-instance-class") {
          return std::vector<std::string>{record.doc.value("ReplicationInstanceClass", "")};
        }
        return std::vector<std::string>{record.doc.value("EngineVersion", "")};
      },
      identifier_key, public_instance);
}

nlohmann::json modify_instance(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyReplicationInstanceMessage>(body);
  auto record = plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  if (status_in<InstanceStatus>(record.doc) != InstanceStatus::kAvailable) {
    throw invalid_state(
        fmt::format("Replication instance {} is not in available state.", record.identifier));
  }
  if (request.replication_instance_identifier) {
    require_valid_identifier("ReplicationInstanceIdentifier",
                             *request.replication_instance_identifier, kIdentifierMax);
    const auto identifier = to_lower(*request.replication_instance_identifier);
    if (identifier != record.identifier &&
        plane.store.find_by_identifier(ResourceKind::kInstance, context.account, context.region,
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
      record_instance_changes_begun(plane, record, pending);
      set_status(record.doc, InstanceStatus::kModifying);
      record.internal["ready_at_ms"] =
          plane.now_millis() + plane.options.instance_create_delay.count();
    }
    pending = nlohmann::json::object();
  }
  record.doc["PendingModifiedValues"] = pending;
  plane.store.update(ResourceKind::kInstance, record);
  return {{"ReplicationInstance", public_instance(record)}};
}

nlohmann::json delete_instance(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationInstanceMessage>(body);
  auto record = plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  for (const auto& task : plane.store.list(ResourceKind::kTask, context.account, context.region)) {
    if (task.doc.value("ReplicationInstanceArn", "") == record.arn) {
      throw invalid_state(fmt::format(
          "Replication instance {} has replication tasks; delete them first (for example {}).",
          record.identifier, task.identifier));
    }
  }
  remove_connections_of(plane.store, context, record.arn);
  plane.store.remove(ResourceKind::kInstance, record.arn);
  record_event(plane, record, DmsEvent::kInstanceDeleting);
  record_event(plane, record, DmsEvent::kInstanceDeleted);
  set_status(record.doc, InstanceStatus::kDeleting);
  return {{"ReplicationInstance", public_instance(record)}};
}

}  // namespace

void register_instances(ControlPlane& plane, OperationTable& table) {
  // A new, changed or rebooted instance is usable once instance_create_delay has passed.
  plane.on_due(ResourceKind::kInstance, [&plane](Record& record) {
    const auto status = status_in<InstanceStatus>(record.doc);
    if (status != InstanceStatus::kCreating && status != InstanceStatus::kModifying &&
        status != InstanceStatus::kRebooting) {
      return false;
    }
    record_instance_available(plane, record);
    set_status(record.doc, InstanceStatus::kAvailable);
    return true;
  });
  add_operations(plane, table,
                 {{"CreateReplicationInstance", create_instance},
                  {"DescribeReplicationInstances", describe_instances},
                  {"ModifyReplicationInstance", modify_instance},
                  {"DeleteReplicationInstance", delete_instance}});
}

}  // namespace dagster_dms::server
