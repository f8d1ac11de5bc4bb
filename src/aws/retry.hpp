#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/clock.hpp"

namespace dagster_dms::aws {

enum class RetryMode { kStandard, kAdaptive };

struct RetryConfig {
  RetryMode mode = RetryMode::kStandard;
  int max_attempts = 3;  // total attempts, including the first
};

// Parses "standard" | "adaptive" | "legacy" (legacy behaves as standard here). Throws ConfigError.
RetryMode parse_retry_mode(const std::string& text);

// What happened on one attempt, as the retry policy needs to see it.
struct AttemptOutcome {
  enum class Kind { kSuccess, kThrottling, kTransient, kTimeout, kNonRetryable };
  Kind kind = Kind::kSuccess;
};

// AWS's "standard" retry behaviour: full-jitter exponential backoff (base 1 s doubling, capped at
// 20 s), a shared retry quota (500 tokens; a retry costs 5, after a timeout 10; a success refunds),
// and in "adaptive" mode a client-side token-bucket rate limiter that backs off (CUBIC) on
// throttling. One strategy per client; thread-safe.
class RetryStrategy {
 public:
  using Random = std::function<double()>;  // uniform in [0, 1)

  RetryStrategy(RetryConfig config, Clock& clock, Random random = {});

  // Before each attempt: in adaptive mode waits for a send token; a no-op in standard mode.
  void before_attempt();
  // After a failed attempt number `attempt` (1-based): the delay before the next attempt, or
  // nullopt when it must not be retried (attempts exhausted, quota empty, not retryable).
  std::optional<std::chrono::milliseconds> retry_delay(const AttemptOutcome& outcome, int attempt);
  // After any response: refunds quota on success and feeds the adaptive rate limiter.
  void record(const AttemptOutcome& outcome);

  [[nodiscard]] const RetryConfig& config() const { return config_; }
  [[nodiscard]] int available_quota() const;

 private:
  struct AdaptiveLimiter;

  RetryConfig config_;
  Clock& clock_;
  Random random_;
  mutable std::mutex mutex_;
  int quota_ = 500;
  int last_retry_cost_ = 0;
  std::unique_ptr<AdaptiveLimiter> limiter_;

 public:
  ~RetryStrategy();
  RetryStrategy(const RetryStrategy&) = delete;
  RetryStrategy& operator=(const RetryStrategy&) = delete;
};

}  // namespace dagster_dms::aws
