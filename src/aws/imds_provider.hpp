#pragma once

#include <chrono>
#include <string>

#include "aws/credentials.hpp"
#include "aws/credentials_chain.hpp"

namespace dagster_dms::aws {

// The EC2 instance role through the Instance Metadata Service, IMDSv2 first: PUT
// /latest/api/token, then the role name and its credentials under
// /latest/meta-data/iam/security-credentials/. Falls back to IMDSv1 when the token call is
// refused with 403/404/405 (unless AWS_EC2_METADATA_V1_DISABLED). Settings from the environment,
// then the profile: AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT(_MODE),
// AWS_METADATA_SERVICE_TIMEOUT (seconds, default 1) and AWS_METADATA_SERVICE_NUM_ATTEMPTS
// (default 1). Any failure to get an answer is nullopt: off EC2 there is no IMDS.
class ImdsProvider final : public CredentialsProvider {
 public:
  ImdsProvider(const ChainContext& context, std::string profile_name);

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "iam-role"; }

  // The base URL in use, after endpoint and mode settings (for tests and diagnostics). Throws
  // ConfigError for an unknown endpoint mode.
  [[nodiscard]] std::string endpoint() const;

 private:
  [[nodiscard]] std::optional<std::string> setting(std::string_view env_name,
                                                   std::string_view profile_key) const;

  ChainContext context_;
  std::string profile_;
};

}  // namespace dagster_dms::aws
