#include "aws/service_info.hpp"

namespace dagster_dms::aws {

const ServiceInfo& dms_service() {
  static const ServiceInfo info{"DMS", "dms", "dms", "DMS", "dms", "AmazonDMSv20160101",
                                "1.1", true};
  return info;
}

const ServiceInfo& cloudwatch_service() {
  static const ServiceInfo info{"CloudWatch", "monitoring", "monitoring",
                                "CLOUDWATCH", "cloudwatch", "GraniteServiceVersion20100801",
                                "1.0",        true};
  return info;
}

const ServiceInfo& logs_service() {
  static const ServiceInfo info{"CloudWatch Logs", "logs",          "logs", "CLOUDWATCH_LOGS",
                                "cloudwatch_logs", "Logs_20140328", "1.1",  true};
  return info;
}

const ServiceInfo& sts_service() {
  static const ServiceInfo info{"STS", "sts", "sts", "STS", "sts", "", "", false};
  return info;
}

}  // namespace dagster_dms::aws
