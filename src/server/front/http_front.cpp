#include "server/front/http_front.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <chrono>

#include "server/dms_api/identifiers.hpp"
#include "server/front/api_error.hpp"
#include "server/front/json_nesting.hpp"
#include "server/front/permissions.hpp"
#include "server/front/request_deadline_server.hpp"
#include "server/front/wire_json.hpp"
#include "server/front/wire_protocol.hpp"
#include "server/telemetry/cloudwatch_service.hpp"
#include "server/telemetry/logs_service.hpp"

namespace dagster_dms::server {

namespace {

// Headers httplib adds for the application; not part of what the client sent or signed.
bool is_synthetic_header(const std::string& name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
         name == "LOCAL_PORT";
}

constexpr std::size_t kMaxRequestBodyBytes = 16 * 1024 * 1024;

// Test control, not an AWS API: unsigned, loopback only, and it holds no secrets.
constexpr std::string_view kFaultsPath = "/_dms-local/faults";

std::string new_request_id() {
  // Unique enough to correlate a client's error with our log line.
  static std::atomic<std::uint64_t> counter{0};
  const auto id = random_resource_id();
  return fmt::format("{}-{}-{}-{}-{:012x}", to_lower(id.substr(0, 8)), to_lower(id.substr(8, 4)),
                     to_lower(id.substr(12, 4)), to_lower(id.substr(16, 4)), ++counter);
}

// "http://localhost:8080" -> "localhost:8080"; "null" (a sandboxed page) stays "null".
std::string_view origin_authority(std::string_view origin) {
  const auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return origin;
  const auto authority = origin.substr(scheme_end + 3);
  return authority.substr(0, authority.find('/'));
}

}  // namespace

HttpFront::HttpFront(const SigV4Verifier& verifier, DmsService& dms, Logger& logger,
                     FaultInjector& faults)
    : verifier_(verifier),
      dms_(dms),
      logger_(logger),
      faults_(faults),
      server_(std::make_unique<RequestDeadlineServer>(ConnectionLimits{})) {
  // Far above any DMS, CloudWatch or Logs request (AWS caps TableMappings and settings in the
  // hundreds of kilobytes); a larger body is answered 413 before it is read into memory.
  server_->set_payload_max_length(kMaxRequestBodyBytes);
  // Registered before the catch-all POST route, which would otherwise take it.
  const auto faults_admin = [this](const httplib::Request& request, httplib::Response& response) {
    handle_faults_admin(request, response);
  };
  server_->Get(std::string(kFaultsPath), faults_admin);
  server_->Post(std::string(kFaultsPath), faults_admin);
  server_->Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
    handle(request, response);
  });
  // Unsigned readiness probe; it reveals nothing about the state.
  server_->Get("/_dms-local/health", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
}

HttpFront::~HttpFront() = default;

int HttpFront::bind(const std::string& host, int port) {
  if (port == 0) {
    const int bound = server_->bind_to_any_port(host);
    if (bound <= 0) throw std::runtime_error(fmt::format("cannot listen on {}:0", host));
    return bound;
  }
  if (!server_->bind_to_port(host, port)) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}", host, port));
  }
  return port;
}

void HttpFront::serve() {
  {
    const std::lock_guard lock(serving_mutex_);
    if (stop_requested_) return;
    serving_ = true;
  }
  struct ServingEnds {
    HttpFront& front;
    ~ServingEnds() {
      {
        const std::lock_guard lock(front.serving_mutex_);
        front.serving_ = false;
      }
      front.serving_changed_.notify_all();
    }
  } serving_ends{*this};
  server_->listen_after_bind();
}

void HttpFront::stop() {
  std::unique_lock lock(serving_mutex_);
  stop_requested_ = true;
  while (serving_) {
    lock.unlock();
    server_->stop();
    lock.lock();
    // Woken as soon as serve() returns; the timeout only paces the retries of a stop that came
    // before the accept loop was running.
    serving_changed_.wait_for(lock, std::chrono::milliseconds(20), [this] { return !serving_; });
  }
}

void HttpFront::handle_faults_admin(const httplib::Request& request, httplib::Response& response) {
  try {
    if (!is_loopback_address(request.remote_addr)) {
      throw ApiError(403, "AccessDeniedException",
                     "The fault settings can only be read or changed from the local machine.");
    }
    // The endpoint is unsigned, so a web page open in a browser on this machine must not reach
    // it. A page may send text/plain or form bodies anywhere without asking first, and DNS
    // rebinding lets a page's own host name resolve to 127.0.0.1; the Host header then names
    // the page's host, and the Origin header the page.
    if (!is_loopback_authority(request.get_header_value("Host"))) {
      throw ApiError(403, "AccessDeniedException",
                     "The fault settings answer only requests whose Host header names the local "
                     "machine (localhost, 127.0.0.1 or [::1]).");
    }
    if (request.has_header("Origin") &&
        !is_loopback_authority(origin_authority(request.get_header_value("Origin")))) {
      throw ApiError(403, "AccessDeniedException",
                     "The fault settings cannot be changed from a web page of another site "
                     "(the request has a foreign Origin header).");
    }
    if (request.method == "POST") {
      const auto content_type = to_lower(request.get_header_value("Content-Type"));
      if (content_type != "application/json" && !content_type.starts_with("application/json;")) {
        throw ApiError(415, "UnsupportedMediaTypeException",
                       "POST the fault settings as JSON with the header Content-Type: "
                       "application/json.");
      }
      if (exceeds_nesting_limit(request.body)) {
        throw ApiError(
            400, "SerializationException",
            fmt::format("The body nests deeper than the limit of {} levels.", kMaxNestingDepth));
      }
      const auto change = nlohmann::json::parse(request.body, nullptr, false);
      if (change.is_discarded())
        throw ApiError(400, "SerializationException", "Malformed JSON body");
      faults_.apply_json(change);
      logger_.log(LogLevel::kInfo, fmt::format("fault settings changed: {}", wire_json(change)));
    }
    response.set_content(faults_.state_json().dump(), "application/json");
  } catch (const ApiError& error) {
    response.status = error.http_status();
    response.set_content(wire_json(error.body()), "application/json");
  }
}

void HttpFront::handle(const httplib::Request& request, httplib::Response& response) {
  const auto started = std::chrono::steady_clock::now();
  const std::string request_id = new_request_id();
  response.set_header("x-amzn-RequestId", request_id);
  std::string operation = "-";
  Route route;
  int status = 200;
  std::string error_code;
  try {
    aws::HttpRequest signed_request;
    signed_request.method = request.method;
    const std::string host = request.get_header_value("Host");
    signed_request.url = "http://" + (host.empty() ? std::string("localhost") : host) +
                         (request.target.empty() ? std::string("/") : request.target);
    for (const auto& [name, value] : request.headers) {
      if (!is_synthetic_header(name)) signed_request.headers.add(name, value);
    }
    signed_request.body = request.body;

    const std::string target = request.get_header_value("X-Amz-Target");
    const std::string authorization = request.get_header_value("Authorization");
    const std::string content_type = request.get_header_value("Content-Type");
    const std::string smithy_protocol = request.get_header_value("smithy-protocol");
    route = route_request(WireInput{target, request.path, smithy_protocol, content_type,
                                    authorization, request.body});
    if (!route.operation.empty()) operation = route.operation;  // named in the request log line
    const Caller caller = verifier_.verify(signed_request, route.signing_name);
    faults_.before_dispatch(caller.account_id, caller.region, route.signing_name);
    const nlohmann::json body = decode_request_body(route, request.body);
    operation = route.operation;
    require_permission(Principal{caller.account_id, caller.user_name, *caller.actions},
                       route.signing_name, caller.region, operation, body);
    const RequestContext context{caller.account_id, caller.region};
    nlohmann::json result;
    if (route.signing_name == "dms") {
      result = dms_.handle(context, operation, body);
    } else if (route.signing_name == "monitoring" && telemetry_.cloudwatch != nullptr) {
      result = telemetry_.cloudwatch->handle(context, operation, body);
    } else if (route.signing_name == "logs" && telemetry_.logs != nullptr) {
      result = telemetry_.logs->handle(context, operation, body);
    } else {
      throw ApiError(400, "UnknownOperationException",
                     fmt::format("Operation {} is not served by this dms-local.", operation));
    }
    const auto encoded = encode_result(route, result, request_id);
    for (const auto& [name, value] : encoded.headers) response.set_header(name, value);
    response.set_content(encoded.body, encoded.content_type);
  } catch (const ApiError& error) {
    status = error.http_status();
    error_code = error.code();
    const auto encoded = encode_error(route, error, request_id);
    response.status = encoded.status;
    for (const auto& [name, value] : encoded.headers) response.set_header(name, value);
    response.set_content(encoded.body, encoded.content_type);
  } catch (const std::exception& error) {
    status = 500;
    error_code = "InternalFailure";
    logger_.log(LogLevel::kError,
                fmt::format("request {} ({}) failed: {}", request_id, operation, error.what()));
    const auto encoded = encode_error(
        route,
        ApiError(500, "InternalFailure",
                 "The request processing has failed because of an unknown error, exception or "
                 "failure."),
        request_id);
    response.status = 500;
    for (const auto& [name, value] : encoded.headers) response.set_header(name, value);
    response.set_content(encoded.body, encoded.content_type);
  }
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  logger_.log(status < 400 ? LogLevel::kDebug : LogLevel::kInfo,
              fmt::format("{} {} {}{} {}ms", request_id, operation, status,
                          error_code.empty() ? "" : " " + error_code, millis));
}

}  // namespace dagster_dms::server
