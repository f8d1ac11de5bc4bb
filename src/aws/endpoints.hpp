#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "aws/config_files.hpp"
#include "aws/environment.hpp"
#include "aws/service_info.hpp"

namespace dagster_dms::aws {

// Everything endpoint resolution looks at, resolved once by the session.
struct EndpointContext {
  const Environment* env = nullptr;
  const ConfigFiles* config = nullptr;
  std::string profile;  // the profile in effect ("default" if none named)
  std::string region;
  std::optional<std::string> explicit_endpoint;  // ClientOptions::endpoint_url
};

// The endpoint URL for `service`, first match wins:
//   1. the explicit endpoint_url, for services that do DMS work (DMS, CloudWatch, Logs);
//   2. AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_DMS);
//   3. AWS_ENDPOINT_URL;
//   4. `<service>.endpoint_url` in the [services NAME] section the profile's `services` names;
//   5. `endpoint_url` in the profile;
//   6. https://<prefix>.<region>.amazonaws.com (amazonaws.com.cn in China regions).
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the profile's ignore_configured_endpoint_urls)
// skips 2-5; an explicit endpoint_url still wins. A chosen value that is not an http(s) URL with a
// host throws ConfigError naming where it came from.
std::string resolve_endpoint(const ServiceInfo& service, const EndpointContext& context);

// https://<prefix>.<region>.amazonaws.com, or amazonaws.com.cn for cn-* regions.
std::string default_endpoint(const ServiceInfo& service, std::string_view region);

// Throws ConfigError("<source> is not a valid endpoint URL ...") unless `url` is http or https
// with a host.
void validate_endpoint_url(std::string_view url, std::string_view source);

}  // namespace dagster_dms::aws
