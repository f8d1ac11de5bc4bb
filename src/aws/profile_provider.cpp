#include "aws/profile_provider.hpp"

#include <fmt/format.h>

#include "aws/assume_role_provider.hpp"
#include "aws/errors.hpp"
#include "aws/process_provider.hpp"
#include "aws/sso_provider.hpp"
#include "aws/web_identity_provider.hpp"

namespace dagster_dms::aws {

std::optional<Credentials> static_profile_credentials(const ConfigSection& profile,
                                                      const std::string& profile_name) {
  auto key = profile.find("aws_access_key_id");
  if (key == profile.end() || key->second.empty()) return std::nullopt;
  auto secret = profile.find("aws_secret_access_key");
  if (secret == profile.end() || secret->second.empty()) {
    throw CredentialsError(
        fmt::format("Partial credentials found in profile \"{}\": aws_access_key_id is set but "
                    "aws_secret_access_key is not",
                    profile_name));
  }
  Credentials credentials;
  credentials.access_key_id = key->second;
  credentials.secret_access_key = Secret(secret->second);
  if (auto token = profile.find("aws_session_token"); token != profile.end()) {
    credentials.session_token = Secret(token->second);
  } else if (auto legacy = profile.find("aws_security_token"); legacy != profile.end()) {
    credentials.session_token = Secret(legacy->second);
  }
  credentials.provider = "shared-credentials-file";
  return credentials;
}

std::optional<Credentials> resolve_profile_without_role(const ChainContext& context,
                                                        const std::string& profile_name,
                                                        bool use_environment_web_identity) {
  if (auto credentials =
          WebIdentityProvider(context, profile_name, use_environment_web_identity).resolve()) {
    return credentials;
  }
  const ConfigSection* profile = context.config->profile(profile_name);
  if (profile == nullptr) return std::nullopt;
  if (SsoProvider::configured(*profile)) {
    if (auto credentials = SsoProvider(context, profile_name).resolve()) return credentials;
  }
  if (auto credentials = static_profile_credentials(*profile, profile_name)) return credentials;
  if (auto process = profile->find("credential_process");
      process != profile->end() && !process->second.empty()) {
    return ProcessProvider(process->second, profile_name).resolve();
  }
  return std::nullopt;
}

ProfileProvider::ProfileProvider(const ChainContext& context, std::string profile_name,
                                 bool use_environment_web_identity)
    : context_(context),
      profile_(std::move(profile_name)),
      use_environment_web_identity_(use_environment_web_identity) {}

std::optional<Credentials> ProfileProvider::resolve() {
  if (auto credentials = AssumeRoleProvider(context_, profile_).resolve()) return credentials;
  return resolve_profile_without_role(context_, profile_, use_environment_web_identity_);
}

}  // namespace dagster_dms::aws
