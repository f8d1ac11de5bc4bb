#include "aws/static_provider.hpp"

#include "aws/errors.hpp"

namespace dagster_dms::aws {

StaticProvider::StaticProvider(Credentials credentials) : credentials_(std::move(credentials)) {
  if (credentials_.access_key_id.empty() || credentials_.secret_access_key.empty()) {
    throw CredentialsError(
        "Explicit credentials need both an access key id and a secret access key");
  }
  if (credentials_.provider.empty()) credentials_.provider = "explicit";
}

}  // namespace dagster_dms::aws
