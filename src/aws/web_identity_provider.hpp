#pragma once

#include <string>

#include "aws/credentials.hpp"
#include "aws/credentials_chain.hpp"

namespace dagster_dms::aws {

// AssumeRoleWithWebIdentity (EKS IRSA, GitHub OIDC and the like): the token file and role come
// from AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN / AWS_ROLE_SESSION_NAME, each falling back to
// the profile's web_identity_token_file / role_arn / role_session_name as botocore does. The token
// file is re-read on every call because the platform rotates it. The STS call is unsigned.
class WebIdentityProvider final : public CredentialsProvider {
 public:
  // `use_environment` is false when the profile is someone's source_profile.
  WebIdentityProvider(const ChainContext& context, std::string profile_name, bool use_environment);

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "assume-role-with-web-identity"; }

 private:
  [[nodiscard]] std::optional<std::string> setting(std::string_view env_name,
                                                   std::string_view profile_key) const;

  ChainContext context_;
  std::string profile_;
  bool use_environment_;
};

// "dagster-dms-session-<unix seconds>", the role session name when none is configured.
std::string default_role_session_name(const Clock& clock);

}  // namespace dagster_dms::aws
