#pragma once

#include <memory>

#include "aws/credentials.hpp"
#include "aws/environment.hpp"

namespace dagster_dms::aws {

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or the older AWS_SECURITY_TOKEN)
// and AWS_CREDENTIAL_EXPIRATION. Read on every resolve() so a refreshed environment is seen.
class EnvironmentProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentProvider(std::shared_ptr<const Environment> env) : env_(std::move(env)) {}
  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "env"; }

 private:
  std::shared_ptr<const Environment> env_;
};

}  // namespace dagster_dms::aws
