#include <fmt/format.h>

#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::size_t kMaxTagsPerResource = 50;

std::optional<ResourceKind> kind_of(const std::string& arn) {
  const auto parsed = parse_dms_arn(arn);
  if (!parsed) return std::nullopt;
  if (parsed->resource_type == "endpoint") return ResourceKind::kEndpoint;
  if (parsed->resource_type == "rep") return ResourceKind::kInstance;
  if (parsed->resource_type == "task") return ResourceKind::kTask;
  if (parsed->resource_type == "replication-config") return ResourceKind::kReplicationConfig;
  if (parsed->resource_type == "subgrp") return ResourceKind::kSubnetGroup;
  if (parsed->resource_type == "cert") return ResourceKind::kCertificate;
  return std::nullopt;
}

// The taggable resource `arn` names (endpoint, instance, task, replication config) must exist in
// the caller's account and region.
void require_taggable(ControlPlane& plane, const RequestContext& context, const std::string& arn) {
  const auto kind = kind_of(arn);
  if (!kind) throw not_found(fmt::format("Resource {} not found", arn));
  plane.require(context, *kind, arn);
}

nlohmann::json add_tags(ControlPlane& plane, const RequestContext& context,
                        const nlohmann::json& body) {
  const auto request = parse_request<dms::AddTagsToResourceMessage>(body);
  require_taggable(plane, context, request.resource_arn);
  plane.put_request_tags(request.resource_arn, request.tags);
  if (plane.store.tags(request.resource_arn).size() > kMaxTagsPerResource) {
    throw invalid_parameter(
        fmt::format("A resource can have at most {} tags.", kMaxTagsPerResource));
  }
  return nlohmann::json::object();
}

nlohmann::json remove_tags(ControlPlane& plane, const RequestContext& context,
                           const nlohmann::json& body) {
  const auto request = parse_request<dms::RemoveTagsFromResourceMessage>(body);
  require_taggable(plane, context, request.resource_arn);
  plane.store.remove_tags(request.resource_arn, request.tag_keys);
  return nlohmann::json::object();
}

nlohmann::json list_tags(ControlPlane& plane, const RequestContext& context,
                         const nlohmann::json& body) {
  const auto request = parse_request<dms::ListTagsForResourceMessage>(body);
  if (!request.resource_arn && !request.resource_arn_list) {
    throw invalid_parameter("Either ResourceArn or ResourceArnList must be provided.");
  }
  std::vector<std::string> arns;
  if (request.resource_arn) arns.push_back(*request.resource_arn);
  if (request.resource_arn_list) {
    arns.insert(arns.end(), request.resource_arn_list->begin(), request.resource_arn_list->end());
  }
  // Only the list form says which resource each tag belongs to.
  const bool name_resource = request.resource_arn_list.has_value();
  nlohmann::json tags = nlohmann::json::array();
  for (const auto& arn : arns) {
    require_taggable(plane, context, arn);
    for (const auto& [key, value] : plane.store.tags(arn)) {
      nlohmann::json tag = {{"Key", key}, {"Value", value}};
      if (name_resource) tag["ResourceArn"] = arn;
      tags.push_back(std::move(tag));
    }
  }
  return {{"TagList", tags}};
}

nlohmann::json describe_account_attributes(ControlPlane& plane, const RequestContext& context,
                                           const nlohmann::json& body) {
  parse_request<dms::DescribeAccountAttributesMessage>(body);
  const auto used = [&](ResourceKind kind) {
    return plane.store.count(kind, context.account, context.region);
  };
  std::int64_t storage = 0;
  for (const auto& instance :
       plane.store.list(ResourceKind::kInstance, context.account, context.region)) {
    storage += instance.doc.value("AllocatedStorage", std::int64_t{0});
  }
  const auto quota = [](const char* name, std::int64_t in_use, std::int64_t max) {
    return nlohmann::json{{"AccountQuotaName", name}, {"Used", in_use}, {"Max", max}};
  };
  return {{"AccountQuotas",
           {quota("ReplicationInstances", used(ResourceKind::kInstance), 60),
            quota("AllocatedStorage", storage, 30000),
            quota("Endpoints", used(ResourceKind::kEndpoint), 1000),
            quota("ReplicationTasks", used(ResourceKind::kTask), 600)}},
          {"UniqueAccountIdentifier", "dmslocal" + context.account}};
}

}  // namespace

void register_tags(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"AddTagsToResource", add_tags},
                  {"RemoveTagsFromResource", remove_tags},
                  {"ListTagsForResource", list_tags},
                  {"DescribeAccountAttributes", describe_account_attributes}});
}

}  // namespace dagster_dms::server
