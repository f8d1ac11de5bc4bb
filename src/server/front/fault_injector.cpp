#include "server/front/fault_injector.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace dagster_dms::server {

TokenBucket::TokenBucket(double capacity, double refill_per_second, TimePoint now)
    : capacity_(capacity),
      refill_per_second_(refill_per_second),
      tokens_(capacity),
      updated_(now) {}

double TokenBucket::tokens(TimePoint now) const {
  // A clock that steps back (it should not: it is monotonic) never drains the bucket.
  const double elapsed = std::max(0.0, std::chrono::duration<double>(now - updated_).count());
  return std::min(capacity_, tokens_ + elapsed * refill_per_second_);
}

bool TokenBucket::try_take(TimePoint now) {
  tokens_ = tokens(now);
  updated_ = std::max(updated_, now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

FaultInjector::FaultInjector()
    : FaultInjector(
          [] { return std::chrono::steady_clock::now(); },
          [](std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); },
          std::random_device{}()) {}

FaultInjector::FaultInjector(Now now, Sleep sleep, std::uint64_t seed)
    : now_(std::move(now)), sleep_(std::move(sleep)), random_(seed) {}

void FaultInjector::before_dispatch(const std::string& account, const std::string& region,
                                    std::string_view service) {
  std::chrono::milliseconds latency{0};
  {
    const std::lock_guard lock(mutex_);
    ++counters_.requests;
    latency = settings_.latency;
    if (latency.count() > 0) ++counters_.delayed;
  }
  // Slept without the lock, so one delayed request does not hold up the others.
  if (latency.count() > 0) sleep_(latency);

  const std::lock_guard lock(mutex_);
  if (settings_.throttle && service == "dms") {
    const std::string key = account + "/" + region;
    auto bucket = buckets_.find(key);
    if (bucket == buckets_.end()) {
      bucket = buckets_
                   .emplace(key, TokenBucket(settings_.throttle_burst,
                                             settings_.throttle_refill_per_second, now_()))
                   .first;
    }
    if (!bucket->second.try_take(now_())) {
      ++counters_.throttled;
      throw ApiError(400, "ThrottlingException", "Rate exceeded");
    }
  }
  if (settings_.server_error_rate > 0 &&
      std::uniform_real_distribution<double>(0.0, 1.0)(random_) < settings_.server_error_rate) {
    if (std::bernoulli_distribution(0.5)(random_)) {
      ++counters_.internal_failures;
      throw ApiError(500, "InternalFailure",
                     "The request processing has failed because of an unknown error, exception "
                     "or failure.");
    }
    ++counters_.service_unavailable;
    throw ApiError(503, "ServiceUnavailable", "The service is unavailable. Try again later.");
  }
}

std::chrono::milliseconds FaultInjector::take_cdc_apply_delay() {
  const std::lock_guard lock(mutex_);
  if (settings_.cdc_apply_delay.count() > 0) ++counters_.cdc_commits_delayed;
  return settings_.cdc_apply_delay;
}

FaultSettings FaultInjector::settings() const {
  const std::lock_guard lock(mutex_);
  return settings_;
}

void FaultInjector::configure(const FaultSettings& settings) {
  const std::lock_guard lock(mutex_);
  if (settings.throttle != settings_.throttle ||
      settings.throttle_burst != settings_.throttle_burst ||
      settings.throttle_refill_per_second != settings_.throttle_refill_per_second) {
    buckets_.clear();
  }
  settings_ = settings;
}

FaultCounters FaultInjector::counters() const {
  const std::lock_guard lock(mutex_);
  return counters_;
}

nlohmann::json FaultInjector::state_json() const {
  const std::lock_guard lock(mutex_);
  return {
      {"latency_ms", settings_.latency.count()},
      {"throttle", settings_.throttle},
      {"throttle_burst", settings_.throttle_burst},
      {"throttle_refill_per_second", settings_.throttle_refill_per_second},
      {"server_error_rate", settings_.server_error_rate},
      {"cdc_apply_delay_ms", settings_.cdc_apply_delay.count()},
      {"counters",
       {{"requests", counters_.requests},
        {"delayed", counters_.delayed},
        {"throttled", counters_.throttled},
        {"internal_failures", counters_.internal_failures},
        {"service_unavailable", counters_.service_unavailable},
        {"cdc_commits_delayed", counters_.cdc_commits_delayed}}},
  };
}

namespace {

ApiError bad_admin_request(const std::string& message) {
  return {400, "InvalidParameterValueException", message};
}

double number(const nlohmann::json& value, std::string_view key, double low, double high) {
  if (!value.is_number()) throw bad_admin_request(fmt::format("{} must be a number", key));
  const double parsed = value.get<double>();
  if (!std::isfinite(parsed) || parsed < low || parsed > high) {
    throw bad_admin_request(fmt::format("{} must be between {} and {}", key, low, high));
  }
  return parsed;
}

}  // namespace

void FaultInjector::apply_json(const nlohmann::json& change) {
  if (!change.is_object()) throw bad_admin_request("the body must be a JSON object");
  FaultSettings next = settings();
  bool reset_counters = false;
  std::optional<std::uint64_t> seed;
  for (const auto& [key, value] : change.items()) {
    if (key == "latency_ms") {
      next.latency = std::chrono::milliseconds(
          static_cast<std::int64_t>(number(value, key, 0, 60'000)));  // a minute at most
    } else if (key == "throttle") {
      if (!value.is_boolean()) throw bad_admin_request("throttle must be true or false");
      next.throttle = value.get<bool>();
    } else if (key == "throttle_burst") {
      next.throttle_burst = number(value, key, 1, 1e9);
    } else if (key == "throttle_refill_per_second") {
      next.throttle_refill_per_second = number(value, key, 0.001, 1e9);
    } else if (key == "server_error_rate") {
      next.server_error_rate = number(value, key, 0, 1);
    } else if (key == "cdc_apply_delay_ms") {
      next.cdc_apply_delay = std::chrono::milliseconds(
          static_cast<std::int64_t>(number(value, key, 0, kMaxCdcApplyDelayMs)));
    } else if (key == "reset_counters") {
      if (!value.is_boolean()) throw bad_admin_request("reset_counters must be true or false");
      reset_counters = value.get<bool>();
    } else if (key == "seed") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
        throw bad_admin_request("seed must be a whole number");
      }
      seed = value.get<std::uint64_t>();
    } else {
      throw bad_admin_request(fmt::format("unknown fault setting '{}'", key));
    }
  }
  configure(next);
  const std::lock_guard lock(mutex_);
  if (reset_counters) counters_ = FaultCounters{};
  if (seed) random_.seed(*seed);
}

bool is_loopback_address(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

bool is_loopback_authority(std::string_view authority) {
  std::string_view host = authority;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    const auto rest = host.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return false;
    return host.substr(1, close - 1) == "::1";
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  // 127.x.x.x, digits and dots only: a name such as 127.0.0.1.attacker.example is not loopback.
  return host.starts_with("127.") &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace dagster_dms::server
