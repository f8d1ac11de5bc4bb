#pragma once

#include "aws/credentials.hpp"

namespace dagster_dms::aws {

// Credentials given explicitly (aws_access_key_id / aws_secret_access_key passed by the caller).
class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials credentials);
  std::optional<Credentials> resolve() override { return credentials_; }
  [[nodiscard]] std::string name() const override { return "explicit"; }

 private:
  Credentials credentials_;
};

}  // namespace dagster_dms::aws
