#pragma once

#include <memory>
#include <optional>
#include <string>

#include "aws/clock.hpp"
#include "aws/secret.hpp"

namespace dagster_dms::aws {

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;                 // empty for long-term keys
  std::optional<TimePoint> expiration;  // set for temporary credentials
  std::string provider;                 // which provider produced them, e.g. "environment"
};

// One source of credentials, composed into a chain as aws-c-auth does.
// resolve() returns nullopt when the source is not configured here (the chain moves on) and throws
// CredentialsError when it is configured but fails (the chain stops: a broken profile is not
// silently replaced by another identity).
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  virtual std::optional<Credentials> resolve() = 0;
  [[nodiscard]] virtual std::string name() const = 0;
};

using CredentialsProviderPtr = std::shared_ptr<CredentialsProvider>;

}  // namespace dagster_dms::aws
