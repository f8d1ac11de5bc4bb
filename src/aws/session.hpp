#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "aws/client_options.hpp"
#include "aws/clock.hpp"
#include "aws/config_files.hpp"
#include "aws/credentials.hpp"
#include "aws/environment.hpp"
#include "aws/retry.hpp"
#include "aws/service_info.hpp"
#include "aws/transport.hpp"

namespace dagster_dms::aws {

// Seams a test can replace; anything left null gets the real implementation.
struct SessionDependencies {
  std::shared_ptr<const Environment> env;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<Transport> transport;
};

// The resolved configuration every client shares: region, profile, credentials (cached),
// endpoints, retry settings and the transport. Built once; thread-safe to use.
class Session {
 public:
  // Resolves everything that can be resolved without the network. Throws ConfigError with a
  // message that says what to set (no region, unknown profile, bad retry mode, bad URL).
  static std::shared_ptr<Session> create(const ClientOptions& options,
                                         SessionDependencies dependencies = {});

  [[nodiscard]] const std::string& region() const { return region_; }
  [[nodiscard]] const std::optional<std::string>& profile() const { return profile_; }
  [[nodiscard]] const RetryConfig& retry_config() const { return retry_config_; }

  // The endpoint for `service`: explicit endpoint_url (DMS work services only) >
  // AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL > profile services section > profile
  // endpoint_url > https://<prefix>.<region>.amazonaws.com (amazonaws.com.cn in China).
  [[nodiscard]] std::string endpoint_for(const ServiceInfo& service) const;

  // Current credentials; refreshed by the provider chain's cache when they near expiry.
  Credentials credentials();

  Transport& transport() { return *transport_; }
  Clock& clock() { return *clock_; }
  [[nodiscard]] const Environment& env() const { return *env_; }

 private:
  Session() = default;

  std::optional<std::string> explicit_endpoint_;
  std::string region_;
  std::optional<std::string> profile_;
  RetryConfig retry_config_;
  std::shared_ptr<const Environment> env_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<Transport> transport_;
  std::shared_ptr<const ConfigFiles> config_;
  CredentialsProviderPtr credentials_provider_;
};

}  // namespace dagster_dms::aws
