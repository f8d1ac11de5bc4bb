#pragma once

#include <memory>
#include <string>

#include "server/dms_service.hpp"
#include "server/fault_injector.hpp"
#include "server/logger.hpp"
#include "server/sigv4_verifier.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace dagster_dms::server {

// The HTTP side: one port for every service. Each POST is SigV4-verified, routed by its
// X-Amz-Target prefix, and answered in the AWS JSON protocol (errors included).
class HttpFront {
 public:
  HttpFront(const SigV4Verifier& verifier, DmsService& dms, Logger& logger);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // Binds and listens; port 0 picks a free one. Returns the port. Throws on failure.
  int bind(const std::string& host, int port);
  // Accepts requests until stop(); blocks.
  void serve();
  // Safe from any thread.
  void stop();
  // Faults injected into signed requests (off by default); also changed at runtime through
  // GET/POST /_dms-local/faults from loopback.
  FaultInjector& faults() { return faults_; }

 private:
  void handle(const httplib::Request& request, httplib::Response& response);
  void handle_faults_admin(const httplib::Request& request, httplib::Response& response);

  const SigV4Verifier& verifier_;
  DmsService& dms_;
  Logger& logger_;
  FaultInjector faults_;
  std::unique_ptr<httplib::Server> server_;
};

}  // namespace dagster_dms::server
