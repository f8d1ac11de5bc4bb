#pragma once

#include <string>

#include "aws/credentials.hpp"
#include "aws/credentials_chain.hpp"

namespace dagster_dms::aws {

// Everything a shared-files profile can say about credentials, in botocore's order:
// role_arn with source_profile / credential_source (unless the profile is a web identity one) >
// web identity > SSO > static keys > credential_process.
//
// botocore reads static keys from ~/.aws/credentials before credential_process and those from
// ~/.aws/config after it; the merged ConfigFiles no longer knows which file a key came from, so
// static keys always win here.
class ProfileProvider final : public CredentialsProvider {
 public:
  // `use_environment_web_identity`: AWS_WEB_IDENTITY_TOKEN_FILE and friends count too (true in
  // the default chain, false when the profile is a source_profile).
  ProfileProvider(const ChainContext& context, std::string profile_name,
                  bool use_environment_web_identity = true);

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "profile"; }

 private:
  ChainContext context_;
  std::string profile_;
  bool use_environment_web_identity_;
};

// The profile's own credentials, without assuming its role_arn: web identity, SSO, static keys,
// credential_process. What a source_profile contributes.
std::optional<Credentials> resolve_profile_without_role(const ChainContext& context,
                                                        const std::string& profile_name,
                                                        bool use_environment_web_identity);

// Static keys of a profile; nullopt when it has none. A key id without a secret throws.
std::optional<Credentials> static_profile_credentials(const ConfigSection& profile,
                                                      const std::string& profile_name);

}  // namespace dagster_dms::aws
