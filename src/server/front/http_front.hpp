#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "server/dms_api/dms_service.hpp"
#include "server/front/fault_injector.hpp"
#include "server/front/sigv4_verifier.hpp"
#include "server/runtime/logger.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace dagster_dms::server {

class CloudWatchService;
class LogsService;

// The CloudWatch metrics and Logs APIs the front serves besides DMS (not owned; optional).
struct TelemetryApis {
  CloudWatchService* cloudwatch = nullptr;
  LogsService* logs = nullptr;
};

// The HTTP side: one port for every service. Each POST is SigV4-verified, routed to DMS,
// CloudWatch or Logs (see wire_protocol.hpp: X-Amz-Target, the RPC v2 CBOR path, or the query
// protocol's credential scope) and answered in the protocol it came in (errors included).
class HttpFront {
 public:
  // `faults` (not owned) is shared with the data plane, which reads the CDC apply delay.
  HttpFront(const SigV4Verifier& verifier, DmsService& dms, Logger& logger, FaultInjector& faults);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // Serves CloudWatch and Logs too; call before serve().
  void set_telemetry_apis(TelemetryApis apis) { telemetry_ = apis; }

  // Binds and listens; port 0 picks a free one. Returns the port. Throws on failure.
  int bind(const std::string& host, int port);
  // Accepts requests until stop(); blocks. Returns at once when stop() came first.
  void serve();
  // Safe from any thread; returns once serve() has returned (or will not start serving).
  void stop();
  // Faults injected into signed requests and the data plane (off by default); also changed at
  // runtime through GET/POST /_dms-local/faults from loopback.
  FaultInjector& faults() { return faults_; }

 private:
  void handle(const httplib::Request& request, httplib::Response& response);
  void handle_faults_admin(const httplib::Request& request, httplib::Response& response);

  const SigV4Verifier& verifier_;
  DmsService& dms_;
  Logger& logger_;
  TelemetryApis telemetry_;
  FaultInjector& faults_;
  std::unique_ptr<httplib::Server> server_;
  // cpp-httplib's stop() does nothing until its accept loop has started, so a stop that comes
  // between bind() and the loop's start (a SIGTERM right after the port file is written) would be
  // lost and serve() would never return. stop() therefore repeats until serve() has returned.
  std::mutex serving_mutex_;
  std::condition_variable serving_changed_;
  bool serving_ = false;
  bool stop_requested_ = false;
};

}  // namespace dagster_dms::server
