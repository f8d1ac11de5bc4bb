#include "aws/environment_provider.hpp"

#include "aws/errors.hpp"
#include "aws/provider_support.hpp"

namespace dagster_dms::aws {

std::optional<Credentials> EnvironmentProvider::resolve() {
  auto access_key = env_->get("AWS_ACCESS_KEY_ID");
  // As botocore: without a key id the environment simply holds no credentials.
  if (!access_key) return std::nullopt;
  auto secret = env_->get("AWS_SECRET_ACCESS_KEY");
  if (!secret) {
    throw CredentialsError(
        "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither");
  }
  Credentials credentials;
  credentials.access_key_id = *access_key;
  credentials.secret_access_key = Secret(*secret);
  if (auto token = env_->get("AWS_SESSION_TOKEN")) {
    credentials.session_token = Secret(*token);
  } else if (auto legacy = env_->get("AWS_SECURITY_TOKEN")) {
    credentials.session_token = Secret(*legacy);
  }
  if (auto expiration = env_->get("AWS_CREDENTIAL_EXPIRATION")) {
    credentials.expiration = provider_support::parse_iso8601(*expiration);
    if (!credentials.expiration) {
      throw CredentialsError(
          "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 timestamp (e.g. 2024-01-02T03:04:05Z)");
    }
  }
  credentials.provider = name();
  return credentials;
}

}  // namespace dagster_dms::aws
