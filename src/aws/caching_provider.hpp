#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "aws/clock.hpp"
#include "aws/credentials.hpp"

namespace dagster_dms::aws {

// Keeps the credentials another provider produced and refreshes temporary ones before they expire,
// with botocore's two windows: inside the advisory window (15 min before expiry) one caller tries
// a refresh and everyone keeps the old credentials if it fails or is already under way; inside the
// mandatory window (10 min) callers wait for a refresh and its failure is theirs. Thread-safe; at
// most one refresh runs at a time.
class CachingProvider final : public CredentialsProvider {
 public:
  static constexpr std::chrono::minutes kAdvisoryRefresh{15};
  static constexpr std::chrono::minutes kMandatoryRefresh{10};

  CachingProvider(CredentialsProviderPtr inner, std::shared_ptr<Clock> clock);

  std::optional<Credentials> resolve() override;
  [[nodiscard]] std::string name() const override;
  // Drops the cached credentials, e.g. after the service rejected them.
  void invalidate();

 private:
  enum class Freshness { kFresh, kAdvisory, kMandatory };
  [[nodiscard]] Freshness freshness_locked() const;
  std::optional<Credentials> refresh_holding_refresh_lock();

  CredentialsProviderPtr inner_;
  std::shared_ptr<Clock> clock_;
  std::mutex refresh_mutex_;        // held while the inner provider runs: one refresh at a time
  mutable std::mutex state_mutex_;  // guards cached_; never held across a refresh
  std::optional<Credentials> cached_;
};

}  // namespace dagster_dms::aws
