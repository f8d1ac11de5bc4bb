#pragma once

#include <memory>
#include <optional>
#include <string>

#include "aws/clock.hpp"
#include "aws/config_files.hpp"
#include "aws/credentials.hpp"
#include "aws/environment.hpp"
#include "aws/transport.hpp"

namespace dagster_dms::aws {

// Everything the default chain needs to build its providers.
struct ChainContext {
  std::shared_ptr<const Environment> env;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<const ConfigFiles> config;
  std::shared_ptr<Transport> transport;  // for STS, SSO, the container endpoint and IMDS
  std::optional<std::string> profile;    // explicit profile (turns the environment provider off)
  std::string region;                    // region for STS / SSO calls when a profile names none
};

// The standard chain, in botocore's order: explicit keys > environment > the profile's role_arn
// (source_profile / credential_source) > web identity (environment, then profile) > SSO > static
// keys > credential_process > ECS container > EC2 IMDSv2. An explicit `profile` turns off the
// environment keys and the environment's web identity settings. Wrapped in a cache that refreshes
// temporary credentials before they expire. A named profile that does not exist throws
// ConfigError; when nothing yields credentials, resolve() throws CredentialsError.
CredentialsProviderPtr make_default_credentials_chain(const ChainContext& context,
                                                      std::optional<Credentials> explicit_keys);

}  // namespace dagster_dms::aws
