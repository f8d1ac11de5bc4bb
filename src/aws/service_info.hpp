#pragma once

#include <string>

namespace dagster_dms::aws {

// What the plumbing needs to know about one AWS service.
struct ServiceInfo {
  std::string display_name;     // for messages: "DMS", "CloudWatch"
  std::string signing_name;     // SigV4 service name: "dms", "monitoring", "logs", "sts"
  std::string endpoint_prefix;  // regional host prefix: <prefix>.<region>.amazonaws.com
  std::string env_suffix;       // AWS_ENDPOINT_URL_<suffix>
  std::string config_key;       // key in a config file's [services ...] section
  std::string target_prefix;    // X-Amz-Target prefix for JSON protocols
  std::string json_version;     // "1.0" or "1.1" (content type application/x-amz-json-<v>)
  // True for the services that do DMS work: an explicit endpoint_url applies to them.
  bool follows_explicit_endpoint = true;
};

const ServiceInfo& dms_service();
const ServiceInfo& cloudwatch_service();
const ServiceInfo& logs_service();
const ServiceInfo& sts_service();

}  // namespace dagster_dms::aws
