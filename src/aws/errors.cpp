#include "aws/errors.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace dagster_dms::aws {

namespace {

std::string describe(const std::string& service, const std::string& operation,
                     const std::string& code, const std::string& message, long http_status,
                     const std::string& request_id) {
  std::string text = service + " " + operation + " failed: " + code;
  if (!message.empty()) text += ": " + message;
  text += " (HTTP " + std::to_string(http_status);
  if (!request_id.empty()) text += ", request id " + request_id;
  text += ")";
  return text;
}

// The union of codes the AWS SDKs treat as throttling (botocore's standard retry list).
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// Only codes that mean "this identity may not do this": a bad or unknown key is a credentials
// problem, not a missing IAM permission, and must not trigger the graceful degradations.
constexpr std::array<std::string_view, 4> kAccessDeniedCodes = {
    "AccessDeniedException",
    "AccessDeniedFault",
    "AccessDenied",
    "UnauthorizedOperation",
};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& codes, const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

ServiceError::ServiceError(std::string service, std::string operation, std::string code,
                           std::string message, long http_status, std::string request_id)
    : Error(describe(service, operation, code, message, http_status, request_id)),
      service_(std::move(service)),
      operation_(std::move(operation)),
      code_(std::move(code)),
      aws_message_(std::move(message)),
      http_status_(http_status),
      request_id_(std::move(request_id)) {}

bool ServiceError::is_throttling() const {
  return contains(kThrottlingCodes, code_) || http_status_ == 429;
}

bool ServiceError::is_access_denied() const {
  return contains(kAccessDeniedCodes, code_);
}

}  // namespace dagster_dms::aws
