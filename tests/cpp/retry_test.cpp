// The standard and adaptive retry behaviour: backoff bounds, the retry quota, and the adaptive
// client-side rate limiter, on a fake clock with deterministic randomness.

#include "aws/retry.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "aws/errors.hpp"
#include "plumbing_fakes.hpp"

namespace dagster_dms::aws {
namespace {

using std::chrono::milliseconds;
using testing::FakeClock;
using Kind = AttemptOutcome::Kind;

RetryStrategy::Random fixed(double value) {
  return [value] { return value; };
}

TEST(RetryMode, Parses) {
  EXPECT_EQ(parse_retry_mode("standard"), RetryMode::kStandard);
  EXPECT_EQ(parse_retry_mode("legacy"), RetryMode::kStandard);
  EXPECT_EQ(parse_retry_mode("adaptive"), RetryMode::kAdaptive);
  EXPECT_THROW(parse_retry_mode("fast"), ConfigError);
}

TEST(StandardRetry, RejectsFewerThanOneAttempt) {
  FakeClock clock;
  EXPECT_THROW(RetryStrategy({RetryMode::kStandard, 0}, clock), ConfigError);
}

TEST(StandardRetry, FullJitterBackoffDoublesFromOneSecondAndCapsAtTwenty) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 10}, clock, fixed(0.999999));
  const std::vector<long> ceilings_ms = {1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000, 20000};
  for (int attempt = 1; attempt <= 9; ++attempt) {
    const auto delay = retry.retry_delay({Kind::kTransient}, attempt);
    ASSERT_TRUE(delay.has_value()) << "attempt " << attempt;
    EXPECT_LE(delay->count(), ceilings_ms[attempt - 1]);
    EXPECT_GE(delay->count(), ceilings_ms[attempt - 1] - 1);
  }
  // Attempt 10 of 10 failed: nothing left.
  EXPECT_FALSE(retry.retry_delay({Kind::kTransient}, 10).has_value());
}

TEST(StandardRetry, JitterScalesTheDelay) {
  FakeClock clock;
  RetryStrategy zero({RetryMode::kStandard, 5}, clock, fixed(0.0));
  EXPECT_EQ(zero.retry_delay({Kind::kThrottling}, 3), milliseconds(0));
  RetryStrategy half({RetryMode::kStandard, 5}, clock, fixed(0.5));
  EXPECT_EQ(half.retry_delay({Kind::kThrottling}, 3), milliseconds(2000));
}

TEST(StandardRetry, DefaultRandomStaysWithinBounds) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 3}, clock);
  for (int i = 0; i < 50; ++i) {
    const auto delay = retry.retry_delay({Kind::kTransient}, 2);
    ASSERT_TRUE(delay.has_value());
    EXPECT_GE(delay->count(), 0);
    EXPECT_LE(delay->count(), 2000);
    retry.record({Kind::kSuccess});
  }
}

TEST(StandardRetry, OnlyRetryableOutcomesAreRetried) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 3}, clock, fixed(0.5));
  EXPECT_FALSE(retry.retry_delay({Kind::kNonRetryable}, 1).has_value());
  EXPECT_FALSE(retry.retry_delay({Kind::kSuccess}, 1).has_value());
  EXPECT_TRUE(retry.retry_delay({Kind::kThrottling}, 1).has_value());
  EXPECT_TRUE(retry.retry_delay({Kind::kTransient}, 2).has_value());
  EXPECT_FALSE(retry.retry_delay({Kind::kTransient}, 3).has_value());
}

TEST(StandardRetry, MaxAttemptsOfOneNeverRetries) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 1}, clock, fixed(0.5));
  EXPECT_FALSE(retry.retry_delay({Kind::kThrottling}, 1).has_value());
  EXPECT_EQ(retry.available_quota(), 500);
}

TEST(RetryQuota, RetriesCostFiveAndTimeoutsTen) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 3}, clock, fixed(0.5));
  EXPECT_EQ(retry.available_quota(), 500);
  ASSERT_TRUE(retry.retry_delay({Kind::kTransient}, 1));
  EXPECT_EQ(retry.available_quota(), 495);
  ASSERT_TRUE(retry.retry_delay({Kind::kThrottling}, 1));
  EXPECT_EQ(retry.available_quota(), 490);
  ASSERT_TRUE(retry.retry_delay({Kind::kTimeout}, 1));
  EXPECT_EQ(retry.available_quota(), 480);
}

TEST(RetryQuota, DepletionStopsRetries) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 3}, clock, fixed(0.5));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(retry.retry_delay({Kind::kTransient}, 1)) << i;
  EXPECT_EQ(retry.available_quota(), 0);
  EXPECT_FALSE(retry.retry_delay({Kind::kTransient}, 1).has_value());
  EXPECT_FALSE(retry.retry_delay({Kind::kThrottling}, 1).has_value());
  EXPECT_EQ(retry.available_quota(), 0);
}

TEST(RetryQuota, TimeoutNeedsTenTokens) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 3}, clock, fixed(0.5));
  for (int i = 0; i < 99; ++i) ASSERT_TRUE(retry.retry_delay({Kind::kTransient}, 1));
  EXPECT_EQ(retry.available_quota(), 5);
  EXPECT_FALSE(retry.retry_delay({Kind::kTimeout}, 1).has_value());
  EXPECT_TRUE(retry.retry_delay({Kind::kTransient}, 1).has_value());
}

TEST(RetryQuota, SuccessAfterRetryRefundsItsCostAndPlainSuccessAddsOne) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 3}, clock, fixed(0.5));
  ASSERT_TRUE(retry.retry_delay({Kind::kTimeout}, 1));
  ASSERT_TRUE(retry.retry_delay({Kind::kTransient}, 1));
  EXPECT_EQ(retry.available_quota(), 485);
  retry.record({Kind::kSuccess});  // refunds the last retry's cost (5)
  EXPECT_EQ(retry.available_quota(), 490);
  retry.record({Kind::kSuccess});  // a success without retries adds one
  EXPECT_EQ(retry.available_quota(), 491);
  for (int i = 0; i < 20; ++i) retry.record({Kind::kSuccess});
  EXPECT_EQ(retry.available_quota(), 500);  // never above the initial capacity
}

TEST(RetryQuota, FailedCallRefundsNothing) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 2}, clock, fixed(0.5));
  ASSERT_TRUE(retry.retry_delay({Kind::kTransient}, 1));
  EXPECT_FALSE(retry.retry_delay({Kind::kTransient}, 2));  // out of attempts: the call fails
  retry.record({Kind::kSuccess});                          // the next call succeeds first time
  EXPECT_EQ(retry.available_quota(), 496);
}

TEST(AdaptiveRetry, StandardModeNeverWaitsBeforeSending) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kStandard, 3}, clock, fixed(0.5));
  for (int i = 0; i < 20; ++i) {
    retry.before_attempt();
    retry.record({Kind::kThrottling});
  }
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(AdaptiveRetry, DoesNotLimitUntilThrottled) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kAdaptive, 3}, clock, fixed(0.5));
  for (int i = 0; i < 100; ++i) {
    retry.before_attempt();
    clock.advance(milliseconds(10));
    retry.record({Kind::kSuccess});
  }
  EXPECT_TRUE(clock.sleeps().empty());
}

// Sends `count` requests back to back (no time passes except the limiter's own waits) and returns
// the send rate the limiter allowed.
double burst_rate(RetryStrategy& retry, FakeClock& clock, int count) {
  const auto start = clock.now();
  for (int i = 0; i < count; ++i) {
    retry.before_attempt();
    retry.record({Kind::kSuccess});
  }
  const double seconds = std::chrono::duration<double>(clock.now() - start).count();
  return seconds > 0 ? count / seconds : 1e9;
}

TEST(AdaptiveRetry, ThrottlingSlowsSendingBelowTheRateThatWasThrottled) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kAdaptive, 3}, clock, fixed(0.5));
  // Ten requests a second for five seconds, then a throttle.
  for (int i = 0; i < 50; ++i) {
    retry.before_attempt();
    clock.advance(milliseconds(100));
    retry.record({Kind::kSuccess});
  }
  EXPECT_TRUE(clock.sleeps().empty());
  retry.before_attempt();
  retry.record({Kind::kThrottling});

  // The bucket may still hold a few tokens; once they are spent, each send waits for the next
  // token at the cut rate: beta (0.7) times the measured 10 per second.
  burst_rate(retry, clock, 20);
  const auto sleeps = clock.sleeps();
  ASSERT_FALSE(sleeps.empty()) << "a throttled client must wait for send tokens";
  // The longest wait is one whole token at the cut rate; later waits shrink as CUBIC regrows.
  const auto longest = *std::max_element(sleeps.begin(), sleeps.end());
  EXPECT_NEAR(static_cast<double>(longest.count()), 1000.0 / 7.0, 5.0);
  EXPECT_GE(sleeps.size(), 10U);
}

TEST(AdaptiveRetry, RepeatedThrottlingKeepsCuttingTheRate) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kAdaptive, 3}, clock, fixed(0.5));
  for (int i = 0; i < 50; ++i) {
    retry.before_attempt();
    clock.advance(milliseconds(50));
    retry.record({Kind::kSuccess});
  }
  retry.record({Kind::kThrottling});
  const double after_one = burst_rate(retry, clock, 10);
  for (int i = 0; i < 5; ++i) {
    retry.before_attempt();
    retry.record({Kind::kThrottling});
  }
  const double after_six = burst_rate(retry, clock, 10);
  EXPECT_LT(after_six, after_one);
}

TEST(AdaptiveRetry, RateRecoversAfterThrottlingStops) {
  FakeClock clock;
  RetryStrategy retry({RetryMode::kAdaptive, 3}, clock, fixed(0.5));
  for (int i = 0; i < 50; ++i) {
    retry.before_attempt();
    clock.advance(milliseconds(100));
    retry.record({Kind::kSuccess});
  }
  retry.record({Kind::kThrottling});
  const double throttled = burst_rate(retry, clock, 10);
  // A quiet minute later the CUBIC curve has grown back past the old rate.
  clock.advance(std::chrono::seconds(60));
  const double recovered = burst_rate(retry, clock, 10);
  EXPECT_GT(recovered, throttled);
}

}  // namespace
}  // namespace dagster_dms::aws
