#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "server/dms_api/dms_service.hpp"
#include "server/telemetry/log_store.hpp"

namespace dagster_dms::server {

// The CloudWatch Logs API (Logs_20140328, JSON 1.1) over the task logs dms-local writes:
// GetLogEvents, FilterLogEvents, DescribeLogStreams and DescribeLogGroups, with the service's
// token semantics and limits. Errors are ApiErrors with the Logs exception names.
class LogsService {
 public:
  explicit LogsService(LogStore& store) : store_(store) {}

  nlohmann::json handle(const RequestContext& context, const std::string& operation,
                        const nlohmann::json& body);

 private:
  nlohmann::json get_log_events(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json filter_log_events(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_log_streams(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_log_groups(const RequestContext& context, const nlohmann::json& body);

  LogStore& store_;
};

}  // namespace dagster_dms::server
