#include "aws/chain_provider.hpp"

#include "aws/errors.hpp"

namespace dagster_dms::aws {

ChainProvider::ChainProvider(std::vector<CredentialsProviderPtr> providers,
                             std::optional<std::string> not_found_message)
    : providers_(std::move(providers)), not_found_message_(std::move(not_found_message)) {}

std::optional<Credentials> ChainProvider::resolve() {
  for (const auto& provider : providers_) {
    if (auto credentials = provider->resolve()) {
      if (credentials->provider.empty()) credentials->provider = provider->name();
      return credentials;
    }
  }
  if (not_found_message_) throw CredentialsError(*not_found_message_);
  return std::nullopt;
}

}  // namespace dagster_dms::aws
