#include "aws/credentials_chain.hpp"

#include <fmt/format.h>

#include "aws/caching_provider.hpp"
#include "aws/chain_provider.hpp"
#include "aws/container_provider.hpp"
#include "aws/curl_transport.hpp"
#include "aws/environment_provider.hpp"
#include "aws/errors.hpp"
#include "aws/imds_provider.hpp"
#include "aws/profile_provider.hpp"
#include "aws/static_provider.hpp"

namespace dagster_dms::aws {

namespace {

constexpr const char* kNotFound =
    "Unable to locate AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pass "
    "aws_access_key_id/aws_secret_access_key, configure a profile, or run where an IAM role is "
    "available";

}  // namespace

CredentialsProviderPtr make_default_credentials_chain(const ChainContext& given,
                                                      std::optional<Credentials> explicit_keys) {
  ChainContext context = given;
  if (!context.env) context.env = std::make_shared<ProcessEnvironment>();
  if (!context.clock) context.clock = std::make_shared<SystemClock>();
  if (!context.config) {
    context.config = std::make_shared<const ConfigFiles>(ConfigFiles::load(*context.env));
  }
  if (!context.transport) context.transport = std::make_shared<CurlTransport>(TransportOptions{});

  // A profile asked for by name (argument or AWS_PROFILE) must exist. "default" may be absent even
  // when named, as the session allows: it then just contributes nothing.
  const bool explicit_profile = given.profile.has_value();
  std::optional<std::string> named = given.profile;
  if (!named) named = context.env->get("AWS_PROFILE");
  if (!named) named = context.env->get("AWS_DEFAULT_PROFILE");
  if (named && *named != "default" && context.config->profile(*named) == nullptr) {
    throw ConfigError(fmt::format("The config profile ({}) could not be found", *named));
  }
  const std::string profile_name = named.value_or("default");
  // From here on `profile` names the active profile, whose services section the STS endpoint
  // follows.
  context.profile = profile_name;

  std::vector<CredentialsProviderPtr> providers;
  if (explicit_keys)
    providers.push_back(std::make_shared<StaticProvider>(std::move(*explicit_keys)));
  // A profile named explicitly turns the environment keys and the environment's web identity
  // settings off, as botocore does for Session(profile_name=...); AWS_PROFILE does not.
  if (!explicit_profile) providers.push_back(std::make_shared<EnvironmentProvider>(context.env));
  providers.push_back(std::make_shared<ProfileProvider>(context, profile_name, !explicit_profile));
  providers.push_back(std::make_shared<ContainerProvider>(context));
  providers.push_back(std::make_shared<ImdsProvider>(context, profile_name));

  auto chain = std::make_shared<ChainProvider>(std::move(providers), std::string(kNotFound));
  return std::make_shared<CachingProvider>(std::move(chain), context.clock);
}

}  // namespace dagster_dms::aws
