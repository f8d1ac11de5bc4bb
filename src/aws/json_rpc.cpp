#include "aws/json_rpc.hpp"

#include <algorithm>
#include <array>
#include <exception>

#include "aws/errors.hpp"
#include "aws/json_error.hpp"
#include "aws/sigv4.hpp"
#include "aws/url.hpp"

namespace dagster_dms::aws {

namespace {

constexpr std::array<std::string_view, 3> kTransientCodes = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"};
constexpr std::array<long, 4> kTransientStatuses = {500, 502, 503, 504};

const char* transport_error_code(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::kConnect:
      return "ConnectError";
    case TransportError::Kind::kTimeout:
      return "Timeout";
    case TransportError::Kind::kConnectionReset:
      return "ConnectionReset";
    case TransportError::Kind::kTls:
      return "TlsError";
    case TransportError::Kind::kTruncated:
      return "TruncatedResponse";
    case TransportError::Kind::kOther:
      break;
  }
  return "TransportError";
}

// What one failed attempt means for retrying it.
struct Failure {
  AttemptOutcome outcome;
  // The service may have acted on the request (timeout or reset after sending, a 5xx).
  bool ambiguous = false;
  std::exception_ptr error;
};

Failure classify(const ServiceError& error) {
  Failure failure;
  failure.error = std::make_exception_ptr(error);
  const auto& code = error.code();
  if (error.is_throttling()) {
    failure.outcome.kind = AttemptOutcome::Kind::kThrottling;
    // A throttled request was refused, not performed.
    return failure;
  }
  const bool transient_code =
      std::find(kTransientCodes.begin(), kTransientCodes.end(), code) != kTransientCodes.end();
  const bool transient_status = std::find(kTransientStatuses.begin(), kTransientStatuses.end(),
                                          error.http_status()) != kTransientStatuses.end();
  failure.outcome.kind = transient_code || transient_status ? AttemptOutcome::Kind::kTransient
                                                            : AttemptOutcome::Kind::kNonRetryable;
  failure.ambiguous = error.http_status() >= 500;
  return failure;
}

Failure classify(const TransportError& error) {
  Failure failure;
  failure.error = std::make_exception_ptr(error);
  failure.outcome.kind = error.kind() == TransportError::Kind::kTimeout
                             ? AttemptOutcome::Kind::kTimeout
                             : AttemptOutcome::Kind::kTransient;
  failure.ambiguous = error.ambiguous();
  return failure;
}

std::string request_url(const std::string& endpoint) {
  const auto url = parse_url(endpoint);
  // The JSON protocols always post to "/" below the endpoint.
  if (url && url->path.empty() && url->query.empty()) return endpoint + "/";
  return endpoint;
}

}  // namespace

JsonRpcClient::JsonRpcClient(std::shared_ptr<Session> session, ServiceInfo service)
    : session_(std::move(session)),
      service_(std::move(service)),
      endpoint_(request_url(session_->endpoint_for(service_))),
      retry_(std::make_unique<RetryStrategy>(session_->retry_config(), session_->clock())) {}

nlohmann::json JsonRpcClient::call(std::string_view operation, const nlohmann::json& input,
                                   Retryability retryability) {
  const std::string body = input.is_null() ? std::string("{}") : input.dump();
  const std::string target = service_.target_prefix + "." + std::string(operation);
  const std::string content_type = "application/x-amz-json-" + service_.json_version;

  for (int attempt = 1;; ++attempt) {
    retry_->before_attempt();

    HttpRequest request;
    request.method = "POST";
    request.url = endpoint_;
    request.headers.set("Content-Type", content_type);
    request.headers.set("X-Amz-Target", target);
    request.body = body;
    // Fetched per attempt: the provider's cache refreshes credentials that near expiry.
    const Credentials credentials = session_->credentials();
    SigningParams params;
    params.region = session_->region();
    params.service = service_.signing_name;
    params.time = session_->clock().now();
    sign_request(request, credentials, params);

    ++counters_.requests;
    if (attempt > 1) ++counters_.retries;

    CallEvent event;
    event.service = service_.display_name;
    event.operation = operation;
    event.attempt = attempt;

    Failure failure;
    try {
      const HttpResponse response = session_->transport().send(request);
      event.http_status = response.status;
      if (response.status >= 200 && response.status < 300) {
        retry_->record({AttemptOutcome::Kind::kSuccess});
        if (observer_) observer_(event);
        if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
          return nlohmann::json::object();
        }
        auto parsed = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded() || !parsed.is_object()) {
          throw ProtocolError(service_.display_name + " " + std::string(operation) +
                              " returned HTTP " + std::to_string(response.status) +
                              " with a body that is not a JSON object");
        }
        return parsed;
      }
      const ServiceError error = parse_json_error(service_, operation, response);
      failure = classify(error);
      event.error_code = error.code();
      if (failure.outcome.kind == AttemptOutcome::Kind::kThrottling) ++counters_.throttled;
      retry_->record(failure.outcome);
      if (observer_) observer_(event);
    } catch (const TransportError& error) {
      failure = classify(error);
      event.error_code = transport_error_code(error.kind());
      retry_->record(failure.outcome);
      if (observer_) observer_(event);
    }

    if (retryability == Retryability::kNotAfterAmbiguousFailure && failure.ambiguous) {
      // The caller reads the resource's state and decides; sending again could act twice.
      std::rethrow_exception(failure.error);
    }
    const auto delay = retry_->retry_delay(failure.outcome, attempt);
    if (!delay) std::rethrow_exception(failure.error);
    if (delay->count() > 0) session_->clock().sleep_for(*delay);
  }
}

}  // namespace dagster_dms::aws
