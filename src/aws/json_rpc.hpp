#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "aws/retry.hpp"
#include "aws/service_info.hpp"
#include "aws/session.hpp"

namespace dagster_dms::aws {

// Whether an operation may be sent again after a failure that leaves its effect unknown (a
// timeout or a reset after the request went out, a 5xx). Start and stop calls are not: the caller
// reads the resource's state first and decides.
enum class Retryability { kIdempotent, kNotAfterAmbiguousFailure };

struct CallEvent {
  std::string_view service;
  std::string_view operation;
  int attempt = 1;              // 1-based
  long http_status = 0;         // 0 when no response arrived
  std::string_view error_code;  // empty on success
};

// Counters for one client, for benchmarks and the sensor's own metadata.
struct CallCounters {
  std::atomic<long> requests{0};   // HTTP attempts sent
  std::atomic<long> retries{0};    // attempts after the first
  std::atomic<long> throttled{0};  // throttling answers met
};

// The AWS JSON protocols (awsJson1_0 / awsJson1_1): serialize, sign, send, retry, and map errors
// to ServiceError with code, message, HTTP status and request id.
class JsonRpcClient {
 public:
  JsonRpcClient(std::shared_ptr<Session> session, ServiceInfo service);

  // Calls `operation` with `input` and returns the parsed response body.
  // Throws ServiceError, TransportError, ProtocolError or CredentialsError.
  nlohmann::json call(std::string_view operation, const nlohmann::json& input,
                      Retryability retryability = Retryability::kIdempotent);

  [[nodiscard]] const CallCounters& counters() const { return counters_; }
  void set_observer(std::function<void(const CallEvent&)> observer) {
    observer_ = std::move(observer);
  }
  [[nodiscard]] const std::shared_ptr<Session>& session() const { return session_; }
  [[nodiscard]] const ServiceInfo& service() const { return service_; }

 private:
  std::shared_ptr<Session> session_;
  ServiceInfo service_;
  std::string endpoint_;
  std::unique_ptr<RetryStrategy> retry_;
  CallCounters counters_;
  std::function<void(const CallEvent&)> observer_;
};

}  // namespace dagster_dms::aws
