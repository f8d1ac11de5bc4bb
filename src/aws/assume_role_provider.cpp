#include "aws/assume_role_provider.hpp"

#include <fmt/format.h>

#include "aws/container_provider.hpp"
#include "aws/environment_provider.hpp"
#include "aws/errors.hpp"
#include "aws/imds_provider.hpp"
#include "aws/profile_provider.hpp"
#include "aws/sts_client.hpp"
#include "aws/web_identity_provider.hpp"

namespace dagster_dms::aws {

namespace {

std::optional<std::string> value_of(const ConfigSection& section, std::string_view key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

bool has_static_keys(const ConfigSection& profile) {
  return value_of(profile, "aws_access_key_id").has_value();
}

}  // namespace

AssumeRoleProvider::AssumeRoleProvider(const ChainContext& context, std::string profile_name)
    : context_(context), profile_(std::move(profile_name)) {}

bool AssumeRoleProvider::configured(const ConfigSection& profile) {
  return value_of(profile, "role_arn").has_value() &&
         !value_of(profile, "web_identity_token_file").has_value();
}

std::optional<Credentials> AssumeRoleProvider::resolve() {
  const ConfigSection* profile = context_.config->profile(profile_);
  if (profile == nullptr || !configured(*profile)) return std::nullopt;
  std::set<std::string> visited{profile_};
  return assume(profile_, visited);
}

Credentials AssumeRoleProvider::assume(const std::string& profile_name,
                                       std::set<std::string>& visited) {
  const ConfigSection& profile = *context_.config->profile(profile_name);
  AssumeRoleParams params;
  params.role_arn = *value_of(profile, "role_arn");
  if (value_of(profile, "mfa_serial")) {
    throw CredentialsError(fmt::format(
        "Profile \"{}\" sets mfa_serial for role {}: assuming a role with MFA needs an "
        "interactive token prompt, which dagster-dms does not support. Use credentials from "
        "`aws sts get-session-token`, an SSO profile or a credential_process instead",
        profile_name, params.role_arn));
  }
  params.role_session_name =
      value_of(profile, "role_session_name").value_or(default_role_session_name(*context_.clock));
  params.external_id = value_of(profile, "external_id");
  if (auto duration = value_of(profile, "duration_seconds")) {
    try {
      params.duration_seconds = std::stoi(*duration);
    } catch (const std::exception&) {
      throw ConfigError(
          fmt::format("duration_seconds in profile \"{}\" is not a number", profile_name));
    }
  }

  const Credentials source = source_credentials(profile_name, profile, visited);
  // As botocore, every hop of a role chain talks to STS in the session's region.
  const std::string region =
      !context_.region.empty()
          ? context_.region
          : context_.config->profile_value(context_.profile.value_or(profile_), "region")
                .value_or("");
  StsClient sts(context_.transport, context_.clock,
                StsClient::resolve_endpoint(*context_.env, context_.config.get(),
                                            context_.profile.value_or(profile_), region),
                region);
  return sts.assume_role(source, params);
}

Credentials AssumeRoleProvider::source_credentials(const std::string& profile_name,
                                                   const ConfigSection& profile,
                                                   std::set<std::string>& visited) {
  auto source_profile = value_of(profile, "source_profile");
  auto credential_source = value_of(profile, "credential_source");
  if (source_profile && credential_source) {
    throw ConfigError(fmt::format(
        "The profile \"{}\" contains both source_profile and credential_source", profile_name));
  }
  if (!source_profile && !credential_source) {
    throw ConfigError(fmt::format(
        "The profile \"{}\" has role_arn but neither source_profile nor credential_source",
        profile_name));
  }

  if (credential_source) {
    CredentialsProviderPtr provider;
    if (*credential_source == "Environment") {
      provider = std::make_shared<EnvironmentProvider>(context_.env);
    } else if (*credential_source == "Ec2InstanceMetadata") {
      provider = std::make_shared<ImdsProvider>(context_, profile_name);
    } else if (*credential_source == "EcsContainer") {
      provider = std::make_shared<ContainerProvider>(context_);
    } else {
      throw ConfigError(
          fmt::format("credential_source \"{}\" in profile \"{}\" is not one of Environment, "
                      "Ec2InstanceMetadata, EcsContainer",
                      *credential_source, profile_name));
    }
    if (auto credentials = provider->resolve()) return *credentials;
    throw CredentialsError(
        fmt::format("No credentials found in credential_source \"{}\" referenced in profile \"{}\"",
                    *credential_source, profile_name));
  }

  const ConfigSection* source = context_.config->profile(*source_profile);
  if (source == nullptr) {
    throw ConfigError(
        fmt::format("The source_profile \"{}\" referenced in the profile \"{}\" does not exist",
                    *source_profile, profile_name));
  }
  // A profile may name itself as source when it also holds the static keys to start from.
  const bool self_with_keys = *source_profile == profile_name && has_static_keys(*source);
  if (visited.contains(*source_profile) && !self_with_keys) {
    throw ConfigError(fmt::format(
        "Infinite loop in profile configuration: profile \"{}\" leads back to \"{}\" through "
        "source_profile",
        profile_name, *source_profile));
  }

  if (has_static_keys(*source) || !configured(*source)) {
    auto credentials = resolve_profile_without_role(context_, *source_profile, false);
    if (!credentials) {
      throw CredentialsError(
          fmt::format("The source profile \"{}\" must have credentials", *source_profile));
    }
    return *credentials;
  }
  visited.insert(*source_profile);
  return assume(*source_profile, visited);
}

}  // namespace dagster_dms::aws
