#include "aws/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "aws/errors.hpp"

namespace dagster_dms::aws {

namespace {

// The cross-SDK "standard" constants (the values the AWS SDKs use unless the 2026 retry revision
// is opted into).
constexpr int kInitialQuota = 500;
constexpr int kRetryCost = 5;
constexpr int kTimeoutRetryCost = 10;
constexpr int kNoRetryIncrement = 1;
constexpr double kBackoffBaseSeconds = 1.0;
constexpr double kMaxBackoffSeconds = 20.0;

double seconds_of(TimePoint time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

}  // namespace

RetryMode parse_retry_mode(const std::string& text) {
  if (text == "standard" || text == "legacy") return RetryMode::kStandard;
  if (text == "adaptive") return RetryMode::kAdaptive;
  throw ConfigError("Unknown retry mode '" + text + "': use standard or adaptive");
}

// Client-side rate limiting of adaptive mode, with botocore's behaviour: a token bucket whose
// fill rate follows a CUBIC curve, cut by beta on every throttling answer and growing back
// between them; sending only waits for tokens once a throttle has been seen.
struct RetryStrategy::AdaptiveLimiter {
  static constexpr double kMinFillRate = 0.5;
  static constexpr double kMaxRateAdjustScale = 2.0;
  static constexpr double kSmoothing = 0.8;
  static constexpr double kBucketsPerSecond = 2.0;
  static constexpr double kScaleConstant = 0.4;
  static constexpr double kBeta = 0.7;

  explicit AdaptiveLimiter(double now)
      : last_fail(now), last_bucket(std::floor(now)), last_refill(now) {
    k = zero_point();
    set_fill_rate(1.0, now);
  }

  // CUBIC: the time after a failure at which the curve returns to the rate that failed.
  [[nodiscard]] double zero_point() const {
    return std::cbrt(w_max * (1 - kBeta) / kScaleConstant);
  }

  void refill(double now) {
    const double filled = (now - last_refill) * fill_rate;
    capacity = std::min(max_capacity, capacity + filled);
    last_refill = now;
  }

  void set_fill_rate(double rate, double now) {
    // Tokens earned so far were earned at the old rate.
    refill(now);
    fill_rate = std::max(rate, kMinFillRate);
    max_capacity = std::max(rate, 1.0);
    capacity = std::min(capacity, max_capacity);
  }

  // The smoothed send rate, measured over half-second buckets.
  double measure(double now) {
    const double bucket = std::floor(now * kBucketsPerSecond) / kBucketsPerSecond;
    ++count;
    if (bucket > last_bucket) {
      const double current = count / (bucket - last_bucket);
      measured_rate = current * kSmoothing + measured_rate * (1 - kSmoothing);
      count = 0;
      last_bucket = bucket;
    }
    return measured_rate;
  }

  void on_response(bool throttled, double now) {
    const double measured = measure(now);
    double new_rate = 0;
    if (!throttled) {
      const double dt = now - last_fail - k;
      new_rate = kScaleConstant * dt * dt * dt + w_max;
    } else {
      const double rate_to_use = enabled ? std::min(measured, fill_rate) : measured;
      w_max = rate_to_use;
      k = zero_point();
      last_fail = now;
      new_rate = rate_to_use * kBeta;
      enabled = true;
    }
    set_fill_rate(std::min(new_rate, kMaxRateAdjustScale * measured), now);
  }

  // Takes a token, or says how long to wait for one.
  std::optional<std::chrono::milliseconds> try_acquire(double now) {
    if (!enabled) return std::nullopt;
    refill(now);
    if (capacity >= 1.0) {
      capacity -= 1.0;
      return std::nullopt;
    }
    const double wait = (1.0 - capacity) / fill_rate;
    return std::chrono::milliseconds(
        std::max<long long>(1, static_cast<long long>(std::ceil(wait * 1000.0))));
  }

  std::mutex mutex;
  bool enabled = false;
  // CUBIC
  double w_max = 0;
  double k = 0;
  double last_fail;
  // rate measurement
  double measured_rate = 0;
  double count = 0;
  double last_bucket;
  // token bucket
  double fill_rate = 1;
  double max_capacity = 1;
  double capacity = 0;
  double last_refill;
};

RetryStrategy::RetryStrategy(RetryConfig config, Clock& clock, Random random)
    : config_(config), clock_(clock), random_(std::move(random)), quota_(kInitialQuota) {
  if (config_.max_attempts < 1) {
    throw ConfigError("max_attempts must be at least 1, got " +
                      std::to_string(config_.max_attempts));
  }
  if (!random_) {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    // Only called with mutex_ held, so the engine needs no lock of its own.
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  if (config_.mode == RetryMode::kAdaptive) {
    limiter_ = std::make_unique<AdaptiveLimiter>(seconds_of(clock_.now()));
  }
}

RetryStrategy::~RetryStrategy() = default;

void RetryStrategy::before_attempt() {
  if (!limiter_) return;
  for (;;) {
    std::optional<std::chrono::milliseconds> wait;
    {
      std::lock_guard lock(limiter_->mutex);
      wait = limiter_->try_acquire(seconds_of(clock_.now()));
    }
    if (!wait) return;
    // Sleep without the lock so responses arriving meanwhile can adjust the rate.
    clock_.sleep_for(*wait);
  }
}

std::optional<std::chrono::milliseconds> RetryStrategy::retry_delay(const AttemptOutcome& outcome,
                                                                    int attempt) {
  std::lock_guard lock(mutex_);
  const bool retryable = outcome.kind == AttemptOutcome::Kind::kThrottling ||
                         outcome.kind == AttemptOutcome::Kind::kTransient ||
                         outcome.kind == AttemptOutcome::Kind::kTimeout;
  if (!retryable || attempt >= config_.max_attempts) {
    // The call ends in failure: botocore refunds nothing for it.
    last_retry_cost_ = 0;
    return std::nullopt;
  }
  const int cost = outcome.kind == AttemptOutcome::Kind::kTimeout ? kTimeoutRetryCost : kRetryCost;
  if (cost > quota_) {
    last_retry_cost_ = 0;
    return std::nullopt;
  }
  quota_ -= cost;
  last_retry_cost_ = cost;

  const double ceiling =
      std::min(kBackoffBaseSeconds * std::pow(2.0, attempt - 1), kMaxBackoffSeconds);
  const double seconds = std::clamp(random_(), 0.0, 1.0) * ceiling;
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

void RetryStrategy::record(const AttemptOutcome& outcome) {
  if (outcome.kind == AttemptOutcome::Kind::kSuccess) {
    std::lock_guard lock(mutex_);
    // A call that needed retries gives back what its last retry cost; one that did not adds a
    // token. The strategy keeps one "last cost" for all calls, so under concurrency a refund may
    // go to a different call's success; the quota total is the same.
    const int refund = last_retry_cost_ > 0 ? last_retry_cost_ : kNoRetryIncrement;
    last_retry_cost_ = 0;
    quota_ = std::min(kInitialQuota, quota_ + refund);
  } else if (outcome.kind == AttemptOutcome::Kind::kNonRetryable) {
    std::lock_guard lock(mutex_);
    last_retry_cost_ = 0;
  }
  if (limiter_) {
    std::lock_guard lock(limiter_->mutex);
    limiter_->on_response(outcome.kind == AttemptOutcome::Kind::kThrottling,
                          seconds_of(clock_.now()));
  }
}

int RetryStrategy::available_quota() const {
  std::lock_guard lock(mutex_);
  return quota_;
}

}  // namespace dagster_dms::aws
