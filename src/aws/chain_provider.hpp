#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aws/credentials.hpp"

namespace dagster_dms::aws {

// Asks each provider in turn and returns the first credentials found. A provider that throws stops
// the walk: it was configured and failed, and another identity must not stand in for it.
class ChainProvider final : public CredentialsProvider {
 public:
  // With `not_found_message`, an exhausted chain throws CredentialsError with it instead of
  // returning nullopt.
  explicit ChainProvider(std::vector<CredentialsProviderPtr> providers,
                         std::optional<std::string> not_found_message = std::nullopt);

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override { return "chain"; }
  [[nodiscard]] const std::vector<CredentialsProviderPtr>& providers() const { return providers_; }

 private:
  std::vector<CredentialsProviderPtr> providers_;
  std::optional<std::string> not_found_message_;
};

}  // namespace dagster_dms::aws
