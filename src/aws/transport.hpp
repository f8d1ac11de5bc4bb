#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "aws/http.hpp"

namespace dagster_dms::aws {

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds read_timeout{std::chrono::seconds(60)};
  bool verify_tls = true;                // opt-out only when explicitly asked
  std::optional<std::string> ca_bundle;  // AWS_CA_BUNDLE or an explicit path
  std::string user_agent;                // "dagster-dms/<version> ..."
};

// Sends one HTTP request and returns the response. The one seam between the AWS plumbing and the
// network, so tests can put a fake in its place. Throws TransportError when no response arrives
// (connection refused or reset, timeout, TLS failure, truncated body).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

}  // namespace dagster_dms::aws
