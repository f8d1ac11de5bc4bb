#pragma once

#include <set>
#include <string>

#include "aws/credentials.hpp"
#include "aws/credentials_chain.hpp"

namespace dagster_dms::aws {

// A profile's role_arn, assumed through STS with credentials from its source_profile (itself
// possibly a role: chains are followed, loops refused) or its credential_source (Environment,
// Ec2InstanceMetadata, EcsContainer). Profiles that also set web_identity_token_file belong to
// the web identity provider. mfa_serial is refused: it needs an interactive prompt.
class AssumeRoleProvider final : public CredentialsProvider {
 public:
  AssumeRoleProvider(const ChainContext& context, std::string profile_name);

  // True when the profile is this provider's to resolve.
  static bool configured(const ConfigSection& profile);

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "assume-role"; }

 private:
  Credentials assume(const std::string& profile_name, std::set<std::string>& visited);
  Credentials source_credentials(const std::string& profile_name, const ConfigSection& profile,
                                 std::set<std::string>& visited);

  ChainContext context_;
  std::string profile_;
};

}  // namespace dagster_dms::aws
