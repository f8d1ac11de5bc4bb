#pragma once

// Operation dispatch by name, for the Python bindings and dmsctl: JSON in (AWS wire names),
// typed call, JSON out. Input that does not fit the model is a std::invalid_argument naming the
// member; an unknown operation is a std::invalid_argument listing the valid ones.

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "dms/cloudwatch_client.hpp"
#include "dms/dms_client.hpp"
#include "dms/logs_client.hpp"

namespace dagster_dms::dms {

nlohmann::json invoke_dms(DmsClient& client, std::string_view operation,
                          const nlohmann::json& input);
nlohmann::json invoke_cloudwatch(CloudWatchClient& client, std::string_view operation,
                                 const nlohmann::json& input);
nlohmann::json invoke_logs(LogsClient& client, std::string_view operation,
                           const nlohmann::json& input);

// The operation names each dispatcher accepts, in the API's spelling ("DescribeReplicationTasks").
std::vector<std::string_view> dms_operations();
std::vector<std::string_view> cloudwatch_operations();
std::vector<std::string_view> logs_operations();

}  // namespace dagster_dms::dms
