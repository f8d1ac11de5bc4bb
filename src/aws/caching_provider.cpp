#include "aws/caching_provider.hpp"

namespace dagster_dms::aws {

CachingProvider::CachingProvider(CredentialsProviderPtr inner, std::shared_ptr<Clock> clock)
    : inner_(std::move(inner)), clock_(std::move(clock)) {}

std::string CachingProvider::name() const {
  return "cached(" + inner_->name() + ")";
}

void CachingProvider::invalidate() {
  std::lock_guard lock(state_mutex_);
  cached_.reset();
}

CachingProvider::Freshness CachingProvider::freshness_locked() const {
  if (!cached_) return Freshness::kMandatory;
  if (!cached_->expiration) return Freshness::kFresh;
  const auto remaining = *cached_->expiration - clock_->now();
  if (remaining > kAdvisoryRefresh) return Freshness::kFresh;
  if (remaining > kMandatoryRefresh) return Freshness::kAdvisory;
  return Freshness::kMandatory;
}

std::optional<Credentials> CachingProvider::refresh_holding_refresh_lock() {
  auto fresh = inner_->resolve();
  std::lock_guard lock(state_mutex_);
  if (fresh) cached_ = fresh;
  return fresh;
}

std::optional<Credentials> CachingProvider::resolve() {
  {
    std::lock_guard lock(state_mutex_);
    switch (freshness_locked()) {
      case Freshness::kFresh:
        return cached_;
      case Freshness::kAdvisory:
        break;
      case Freshness::kMandatory:
        break;
    }
  }

  {
    std::unique_lock refresh(refresh_mutex_, std::try_to_lock);
    if (refresh.owns_lock()) {
      Freshness freshness;
      std::optional<Credentials> current;
      {
        std::lock_guard lock(state_mutex_);
        freshness = freshness_locked();
        current = cached_;
      }
      if (freshness == Freshness::kFresh) return current;
      if (freshness == Freshness::kAdvisory) {
        // Still usable for a while: a failed refresh is not the caller's problem yet.
        try {
          auto fresh = refresh_holding_refresh_lock();
          return fresh ? fresh : current;
        } catch (const std::exception&) {
          return current;
        }
      }
      auto fresh = refresh_holding_refresh_lock();
      if (fresh) return fresh;
      // Nothing new: expired credentials are worse than none, but ones still valid may serve.
      if (current && current->expiration && *current->expiration > clock_->now()) return current;
      return std::nullopt;
    }
  }

  // Another caller is refreshing. In the advisory window its result is not needed yet.
  {
    std::lock_guard lock(state_mutex_);
    if (freshness_locked() != Freshness::kMandatory) return cached_;
  }
  // Mandatory: wait for the running refresh, then use its result or refresh ourselves.
  std::lock_guard refresh(refresh_mutex_);
  {
    std::lock_guard lock(state_mutex_);
    if (freshness_locked() != Freshness::kMandatory) return cached_;
  }
  return refresh_holding_refresh_lock();
}

}  // namespace dagster_dms::aws
