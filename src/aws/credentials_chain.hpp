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

// The standard chain, in boto3's order: explicit keys > environment > shared files (static keys,
// role_arn + source_profile / credential_source, credential_process, SSO) > web identity >
// ECS container > EC2 IMDSv2. Wrapped in a cache that refreshes temporary credentials before they
// expire. An explicit profile that does not exist throws ConfigError.
CredentialsProviderPtr make_default_credentials_chain(const ChainContext& context,
                                                      std::optional<Credentials> explicit_keys);

}  // namespace dagster_dms::aws
