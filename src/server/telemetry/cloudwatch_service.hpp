#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "aws/clock.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/telemetry/metrics_store.hpp"

namespace dagster_dms::server {

// The CloudWatch metrics API (GraniteServiceVersion20100801) over the metrics dms-local
// publishes: GetMetricData, GetMetricStatistics and ListMetrics. Requests and answers are
// documents with the AWS member names, whatever protocol carried them (JSON 1.0, RPC v2 CBOR or
// the query protocol); timestamps are epoch seconds. Errors are ApiErrors whose code is the
// model's exception name (cloudwatch_query_code gives the query protocol's code).
class CloudWatchService {
 public:
  CloudWatchService(MetricsStore& store, const aws::Clock& clock) : store_(store), clock_(clock) {}

  nlohmann::json handle(const RequestContext& context, const std::string& operation,
                        const nlohmann::json& body);

 private:
  nlohmann::json get_metric_data(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json get_metric_statistics(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json list_metrics(const RequestContext& context, const nlohmann::json& body);

  MetricsStore& store_;
  const aws::Clock& clock_;
};

// The query protocol's error code for a CloudWatch exception name (InvalidParameterValueException
// -> InvalidParameterValue); nullopt for codes that are the same in both protocols.
std::optional<std::string> cloudwatch_query_code(std::string_view exception_name);

// Members of CloudWatch answers that hold timestamps (a list of them, or one), for the protocols
// that mark timestamps in their encoding (CBOR tags, ISO 8601 text in XML).
bool is_cloudwatch_timestamp_member(std::string_view member);

}  // namespace dagster_dms::server
