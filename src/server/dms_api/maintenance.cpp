#include <fmt/format.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// dms-local's instances are processes on this machine: nothing is ever pending for them, so the
// maintenance operations answer truthfully that there is nothing to do, after checking the
// request as DMS does.

constexpr std::array<std::string_view, 4> kApplyActions{"os-upgrade", "system-update", "db-upgrade",
                                                        "os-patch"};
constexpr std::array<std::string_view, 3> kOptInTypes{"immediate", "next-maintenance",
                                                      "undo-opt-in"};

const FilterSpec kMaintenanceFilters{{"replication-instance-arn"}, {}};

template <std::size_t N>
void require_one_of(std::string_view member, const std::string& value,
                    const std::array<std::string_view, N>& allowed) {
  for (const auto name : allowed) {
    if (value == name) return;
  }
  std::string listed;
  for (const auto name : allowed) listed += (listed.empty() ? "" : ", ") + std::string(name);
  throw invalid_parameter(
      fmt::format("Invalid value {} for {}. Valid values: {}.", value, member, listed));
}

nlohmann::json describe_pending(ControlPlane& plane, const RequestContext& context,
                                const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribePendingMaintenanceActionsMessage>(body);
  if (request.replication_instance_arn) {
    plane.require(context, ResourceKind::kInstance, *request.replication_instance_arn);
  }
  // The listing's checks (filter names, MaxRecords bounds) over the empty list of actions.
  const auto page = describe_page(
      std::vector<Record>{}, DescribeRequest::of(request), {kMaintenanceFilters, ""},
      "PendingMaintenanceActions",
      [](const Record& /*record*/, std::string_view /*filter*/) {
        return std::vector<std::string>{};
      },
      identifier_key, [](const Record& /*record*/) { return nlohmann::json::object(); });
  return page;
}

nlohmann::json apply_pending(ControlPlane& plane, const RequestContext& context,
                             const nlohmann::json& body) {
  const auto request = parse_request<dms::ApplyPendingMaintenanceActionMessage>(body);
  const auto instance =
      plane.require(context, ResourceKind::kInstance, request.replication_instance_arn);
  require_one_of("ApplyAction", request.apply_action, kApplyActions);
  require_one_of("OptInType", request.opt_in_type, kOptInTypes);
  return {{"ResourcePendingMaintenanceActions",
           {{"ResourceIdentifier", instance.arn},
            {"PendingMaintenanceActionDetails", nlohmann::json::array()}}}};
}

}  // namespace

void register_maintenance(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"DescribePendingMaintenanceActions", describe_pending},
                  {"ApplyPendingMaintenanceAction", apply_pending}});
}

}  // namespace dagster_dms::server
