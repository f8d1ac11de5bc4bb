#include "aws/web_identity_provider.hpp"

#include <fmt/format.h>

#include "aws/errors.hpp"
#include "aws/provider_support.hpp"
#include "aws/sts_client.hpp"

namespace dagster_dms::aws {

std::string default_role_session_name(const Clock& clock) {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  return fmt::format("dagster-dms-session-{}", seconds);
}

WebIdentityProvider::WebIdentityProvider(const ChainContext& context, std::string profile_name,
                                         bool use_environment)
    : context_(context), profile_(std::move(profile_name)), use_environment_(use_environment) {}

std::optional<std::string> WebIdentityProvider::setting(std::string_view env_name,
                                                        std::string_view profile_key) const {
  if (use_environment_) {
    if (auto value = context_.env->get(env_name)) return value;
  }
  auto value = context_.config->profile_value(profile_, profile_key);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::optional<Credentials> WebIdentityProvider::resolve() {
  auto token_file = setting("AWS_WEB_IDENTITY_TOKEN_FILE", "web_identity_token_file");
  if (!token_file) return std::nullopt;
  auto role_arn = setting("AWS_ROLE_ARN", "role_arn");
  if (!role_arn) {
    throw ConfigError(fmt::format(
        "A web identity token file is configured (profile \"{}\" or AWS_WEB_IDENTITY_TOKEN_FILE) "
        "but no role ARN: set AWS_ROLE_ARN or role_arn",
        profile_));
  }
  AssumeRoleParams params;
  params.role_arn = *role_arn;
  params.role_session_name = setting("AWS_ROLE_SESSION_NAME", "role_session_name")
                                 .value_or(default_role_session_name(*context_.clock));
  if (auto duration = context_.config->profile_value(profile_, "duration_seconds")) {
    try {
      params.duration_seconds = std::stoi(*duration);
    } catch (const std::exception&) {
      throw ConfigError(
          fmt::format("duration_seconds in profile \"{}\" is not a number", profile_));
    }
  }

  const std::string path = provider_support::expand_user(*token_file, *context_.env);
  std::optional<std::string> token;
  try {
    token = provider_support::read_file_if_exists(path);
  } catch (const ConfigError&) {
    token.reset();
  }
  if (!token || provider_support::trim(*token).empty()) {
    throw CredentialsError(fmt::format("Cannot read the web identity token file {} for role {}",
                                       path, params.role_arn));
  }

  const std::string region =
      !context_.region.empty()
          ? context_.region
          : context_.config->profile_value(context_.profile.value_or(profile_), "region")
                .value_or("");
  StsClient sts(context_.transport, context_.clock,
                StsClient::resolve_endpoint(*context_.env, context_.config.get(),
                                            context_.profile.value_or(profile_), region),
                region);
  return sts.assume_role_with_web_identity(params, Secret(provider_support::trim(*token)));
}

}  // namespace dagster_dms::aws
