#include "server/dms_api/subnet_groups.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>
#include <vector>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"
#include "server/front/request_members.hpp"

namespace dagster_dms::server {

namespace {

// DMS quotas: replication subnet groups per account and region, subnets per group.
constexpr std::int64_t kSubnetGroupQuota = 60;
constexpr std::size_t kSubnetsPerGroupQuota = 60;
constexpr std::size_t kIdentifierMax = 255;
// dms-local has no VPCs: every subnet lives in this one, and the subnets of a group are spread
// over the region's first availability zones in sorted order (a, b, c, a, ...), so two or more
// subnets always cover the two zones DMS requires.
constexpr std::string_view kLocalVpcId = "vpc-00000000000000000";
constexpr std::array<char, 3> kZoneLetters{'a', 'b', 'c'};

const FilterSpec kSubnetGroupFilters{{"replication-subnet-group-id"}, {}};

// Subnet group names are looser than other DMS identifiers: up to 255 letters, digits, periods,
// underscores and hyphens, stored lower-case, and never "default" (the default VPC's group).
std::string valid_group_identifier(const std::string& identifier) {
  const auto allowed = [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
  };
  if (identifier.empty() || identifier.size() > kIdentifierMax ||
      !std::all_of(identifier.begin(), identifier.end(), allowed)) {
    throw invalid_parameter(fmt::format(
        "Invalid ReplicationSubnetGroupIdentifier '{}': use 1 to {} letters, digits, periods, "
        "underscores or hyphens.",
        identifier, kIdentifierMax));
  }
  auto lower = to_lower(identifier);
  if (lower == "default") {
    throw invalid_parameter(
        "ReplicationSubnetGroupIdentifier must not be \"default\"; choose another name.");
  }
  return lower;
}

void require_printable_description(const std::string& description) {
  if (std::any_of(description.begin(), description.end(),
                  [](unsigned char c) { return std::iscntrl(c) != 0; })) {
    throw invalid_parameter(
        "ReplicationSubnetGroupDescription must not contain non-printable control characters.");
  }
}

// A subnet id as EC2 spells them: "subnet-" and 8 or 17 lower-case hex digits.
bool is_subnet_id(std::string_view id) {
  constexpr std::string_view prefix = "subnet-";
  if (id.substr(0, prefix.size()) != prefix) return false;
  const auto digits = id.substr(prefix.size());
  return (digits.size() == 8 || digits.size() == 17) &&
         std::all_of(digits.begin(), digits.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The Subnets member for the requested ids: checked, de-duplicated, sorted, each in its zone.
nlohmann::json subnets_of(const RequestContext& context, const std::vector<std::string>& ids) {
  const std::set<std::string> unique(ids.begin(), ids.end());
  if (unique.empty()) throw invalid_parameter("SubnetIds must name at least two subnets.");
  if (unique.size() > kSubnetsPerGroupQuota) {
    throw quota_exceeded(
        fmt::format("A replication subnet group holds at most {} subnets.", kSubnetsPerGroupQuota));
  }
  for (const auto& id : unique) {
    if (!is_subnet_id(id)) {
      throw ApiError(400, "InvalidSubnet",
                     fmt::format("The subnet ID '{}' does not exist: subnet ids are 'subnet-' "
                                 "followed by 8 or 17 hexadecimal digits.",
                                 id));
    }
  }
  if (unique.size() < 2) {
    throw ApiError(400, "ReplicationSubnetGroupDoesNotCoverEnoughAZs",
                   "The replication subnet group does not cover enough Availability Zones (AZs): "
                   "give subnets in at least 2 AZs.");
  }
  nlohmann::json subnets = nlohmann::json::array();
  std::size_t index = 0;
  for (const auto& id : unique) {
    const auto zone = context.region + kZoneLetters.at(index++ % kZoneLetters.size());
    subnets.push_back({{"SubnetIdentifier", id},
                       {"SubnetAvailabilityZone", {{"Name", zone}}},
                       {"SubnetStatus", "Active"}});
  }
  return subnets;
}

nlohmann::json public_group(const Record& record) {
  return public_document<dms::ReplicationSubnetGroup>(record.doc);
}

Record require_group(ControlPlane& plane, const RequestContext& context,
                     const std::string& identifier) {
  auto record = plane.store.find_by_identifier(ResourceKind::kSubnetGroup, context.account,
                                               context.region, to_lower(identifier));
  if (!record) {
    throw not_found(fmt::format("Replication subnet group {} not found.", identifier));
  }
  return *record;
}

nlohmann::json create_group(ControlPlane& plane, const RequestContext& context,
                            const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateReplicationSubnetGroupMessage>(body);
  const auto identifier = valid_group_identifier(request.replication_subnet_group_identifier);
  require_printable_description(request.replication_subnet_group_description);
  auto subnets = subnets_of(context, request.subnet_ids);
  if (plane.store.find_by_identifier(ResourceKind::kSubnetGroup, context.account, context.region,
                                     identifier)) {
    throw already_exists(fmt::format("Replication subnet group {} already exists.", identifier));
  }
  if (plane.store.count(ResourceKind::kSubnetGroup, context.account, context.region) >=
      kSubnetGroupQuota) {
    throw quota_exceeded(fmt::format(
        "Account quota ReplicationSubnetGroups ({}) exceeded; delete subnet groups first.",
        kSubnetGroupQuota));
  }
  auto record = plane.new_record(context, ResourceKind::kSubnetGroup, identifier, identifier);
  record.doc = {
      {"ReplicationSubnetGroupIdentifier", identifier},
      {"ReplicationSubnetGroupDescription", request.replication_subnet_group_description},
      {"VpcId", kLocalVpcId},
      {"SubnetGroupStatus", "Complete"},
      {"Subnets", std::move(subnets)},
      {"SupportedNetworkTypes", {"IPV4"}},
  };
  plane.store.insert(ResourceKind::kSubnetGroup, record);
  plane.put_request_tags(record.arn, request.tags);
  return {{"ReplicationSubnetGroup", public_group(record)}};
}

nlohmann::json describe_groups(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationSubnetGroupsMessage>(body);
  return describe_page(
      plane.store.list(ResourceKind::kSubnetGroup, context.account, context.region),
      DescribeRequest::of(request),
      {kSubnetGroupFilters, "No replication subnet groups found matching provided filters"},
      "ReplicationSubnetGroups",
      [](const Record& record, std::string_view /*replication-subnet-group-id*/) {
        return std::vector<std::string>{record.identifier};
      },
      identifier_key, public_group);
}

nlohmann::json modify_group(ControlPlane& plane, const RequestContext& context,
                            const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyReplicationSubnetGroupMessage>(body);
  auto record = require_group(plane, context, request.replication_subnet_group_identifier);
  if (request.replication_subnet_group_description) {
    require_printable_description(*request.replication_subnet_group_description);
    record.doc["ReplicationSubnetGroupDescription"] = *request.replication_subnet_group_description;
  }
  record.doc["Subnets"] = subnets_of(context, request.subnet_ids);
  plane.store.update(ResourceKind::kSubnetGroup, record);
  return {{"ReplicationSubnetGroup", public_group(record)}};
}

nlohmann::json delete_group(ControlPlane& plane, const RequestContext& context,
                            const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationSubnetGroupMessage>(body);
  const auto record = require_group(plane, context, request.replication_subnet_group_identifier);
  for (const auto& instance :
       plane.store.list(ResourceKind::kInstance, context.account, context.region)) {
    const auto group = instance.doc.value("ReplicationSubnetGroup", nlohmann::json::object());
    if (group.value("ReplicationSubnetGroupIdentifier", "") == record.identifier) {
      throw invalid_state(fmt::format(
          "Replication subnet group {} is in use by replication instance {}; delete or move the "
          "instance first.",
          record.identifier, instance.identifier));
    }
  }
  plane.store.remove(ResourceKind::kSubnetGroup, record.arn);
  return nlohmann::json::object();
}

}  // namespace

std::optional<nlohmann::json> subnet_group_of_new_instance(
    ControlPlane& plane, const RequestContext& context,
    const std::optional<std::string>& subnet_group_identifier) {
  const auto identifier = given(subnet_group_identifier);
  if (!identifier) return std::nullopt;
  return public_group(require_group(plane, context, *identifier));
}

void register_subnet_groups(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"CreateReplicationSubnetGroup", create_group},
                  {"DescribeReplicationSubnetGroups", describe_groups},
                  {"ModifyReplicationSubnetGroup", modify_group},
                  {"DeleteReplicationSubnetGroup", delete_group}});
}

}  // namespace dagster_dms::server
