#pragma once

#include <string>

#include "aws/credentials.hpp"

namespace dagster_dms::aws {

// A profile's `credential_process`: runs the command with /bin/sh -c and reads the JSON it prints
// ({"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}). A nonzero
// exit is a CredentialsError carrying the command's stderr, never its stdout (which holds the
// secrets).
class ProcessProvider final : public CredentialsProvider {
 public:
  ProcessProvider(std::string command, std::string profile_name)
      : command_(std::move(command)), profile_(std::move(profile_name)) {}

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "custom-process"; }

 private:
  std::string command_;
  std::string profile_;
};

}  // namespace dagster_dms::aws
