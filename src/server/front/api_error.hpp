#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace dagster_dms::server {

// An error answer in the AWS JSON protocol's shape. Handlers throw it; the HTTP front turns it into
// a response with `__type`, `message` and the x-amzn-ErrorType header, as AWS services do.
class ApiError : public std::runtime_error {
 public:
  ApiError(int http_status, std::string code, const std::string& message)
      : std::runtime_error(message), http_status_(http_status), code_(std::move(code)) {}

  [[nodiscard]] int http_status() const { return http_status_; }
  [[nodiscard]] const std::string& code() const { return code_; }
  [[nodiscard]] nlohmann::json body() const {
    return {{"__type", code_}, {"message", std::string(what())}};
  }

 private:
  int http_status_;
  std::string code_;
};

// The DMS faults, all HTTP 400 like the service answers them.
inline ApiError invalid_parameter(const std::string& message) {
  return {400, "InvalidParameterValueException", message};
}
inline ApiError invalid_combination(const std::string& message) {
  return {400, "InvalidParameterCombinationException", message};
}
inline ApiError not_found(const std::string& message) {
  return {400, "ResourceNotFoundFault", message};
}
inline ApiError already_exists(const std::string& message) {
  return {400, "ResourceAlreadyExistsFault", message};
}
inline ApiError invalid_state(const std::string& message) {
  return {400, "InvalidResourceStateFault", message};
}
inline ApiError quota_exceeded(const std::string& message) {
  return {400, "ResourceQuotaExceededFault", message};
}

}  // namespace dagster_dms::server
