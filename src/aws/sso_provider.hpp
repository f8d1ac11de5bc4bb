#pragma once

#include <string>

#include "aws/credentials.hpp"
#include "aws/credentials_chain.hpp"

namespace dagster_dms::aws {

// IAM Identity Center (SSO) role credentials for a profile, from the token `aws sso login` left in
// ~/.aws/sso/cache. Both profile styles: `sso_session = NAME` with an [sso-session NAME] section
// (cache file named by the SHA-1 of the session name) and the legacy sso_start_url / sso_region
// in the profile (named by the SHA-1 of the start URL). The token is exchanged at the SSO portal's
// GetRoleCredentials (bearer token, no SigV4). Refreshing the token itself is left to the AWS CLI.
class SsoProvider final : public CredentialsProvider {
 public:
  SsoProvider(const ChainContext& context, std::string profile_name);

  // True when the profile carries SSO settings at all.
  static bool configured(const ConfigSection& profile);

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "sso"; }

 private:
  ChainContext context_;
  std::string profile_;
};

// Lower-case hex SHA-1 of `text`, the SSO token cache's file naming.
std::string sha1_hex(std::string_view text);

}  // namespace dagster_dms::aws
