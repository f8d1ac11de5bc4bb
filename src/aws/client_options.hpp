#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "aws/secret.hpp"

namespace dagster_dms::aws {

// What a caller may set explicitly. Everything left unset is resolved the way boto3 resolves it:
// environment variables, then the shared config files, then defaults.
struct ClientOptions {
  std::optional<std::string> region;
  std::optional<std::string> profile;
  // Applies to every service used for DMS work (DMS, CloudWatch, Logs); not to STS or SSO.
  std::optional<std::string> endpoint_url;
  std::optional<std::string> access_key_id;
  std::optional<Secret> secret_access_key;
  std::optional<Secret> session_token;
  std::optional<int> max_attempts;        // total attempts, including the first
  std::optional<std::string> retry_mode;  // "standard" | "adaptive" ("legacy" maps to standard)
  bool verify_tls = true;
  std::optional<std::string> ca_bundle;
  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<std::chrono::milliseconds> read_timeout;
};

}  // namespace dagster_dms::aws
