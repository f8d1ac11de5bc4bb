// ErrorBehavior's recoverable errors: which failures are retried, how long each wait is, and
// how the settings are read.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "replicate/pg_connection.hpp"
#include "replicate/recoverable_errors.hpp"
#include "replicate/task_settings.hpp"

namespace {

using namespace dagster_dms::replicate;
using std::chrono::seconds;

// The waits a schedule grants until it gives up (at most `limit` of them).
std::vector<long> waits(RetrySchedule& schedule, int limit = 50) {
  std::vector<long> out;
  while (static_cast<int>(out.size()) < limit) {
    const auto wait = schedule.next();
    if (!wait) break;
    out.push_back(static_cast<long>(wait->count()));
  }
  return out;
}

// DMS's defaults, as a task without ErrorBehavior settings has them.
RecoverableErrorPolicy dms_default_policy() {
  return parse_full_load_settings("").recoverable;
}

TEST(RetrySchedule, DefaultsDoubleFromFiveSecondsAndStopAfterTheMaximum) {
  RetrySchedule schedule{dms_default_policy()};
  EXPECT_EQ(waits(schedule), (std::vector<long>{5, 10, 20, 40, 80, 160, 320, 640, 1280, 1800}));
}

TEST(RetrySchedule, ZeroCountNeverRetries) {
  auto policy = dms_default_policy();
  policy.count = 0;
  RetrySchedule schedule{policy};
  EXPECT_FALSE(schedule.next());
}

TEST(RetrySchedule, CountLimitsTheRetriesInARowAndResetStartsOver) {
  auto policy = dms_default_policy();
  policy.count = 3;
  policy.interval = seconds(1);
  RetrySchedule schedule{policy};
  EXPECT_EQ(waits(schedule), (std::vector<long>{1, 2, 4}));
  schedule.reset();
  EXPECT_EQ(schedule.retries(), 0);
  EXPECT_EQ(waits(schedule), (std::vector<long>{1, 2, 4}));
}

TEST(RetrySchedule, WithoutThrottlingTheIntervalStaysAndTheMaximumDoesNotApply) {
  auto policy = dms_default_policy();
  policy.interval = seconds(7);
  policy.throttling = false;
  policy.throttling_max = seconds(1);
  RetrySchedule schedule{policy};
  EXPECT_EQ(waits(schedule, 20), std::vector<long>(20, 7));
}

TEST(RetrySchedule, WithoutStopAfterMaximumItRetriesForeverAtTheMaximum) {
  auto policy = dms_default_policy();
  policy.interval = seconds(1);
  policy.throttling_max = seconds(8);
  policy.stop_after_throttling_max = false;
  RetrySchedule schedule{policy};
  const auto got = waits(schedule, 200);
  ASSERT_EQ(got.size(), 200U);
  EXPECT_EQ(std::vector<long>(got.begin(), got.begin() + 6), (std::vector<long>{1, 2, 4, 8, 8, 8}));
  EXPECT_EQ(got.back(), 8);  // no overflow however long the series
}

TEST(RetrySchedule, AnIntervalAboveTheMaximumIsCappedAndRetriedOnce) {
  auto policy = dms_default_policy();
  policy.interval = seconds(60);
  policy.throttling_max = seconds(30);
  RetrySchedule schedule{policy};
  EXPECT_EQ(waits(schedule), (std::vector<long>{30}));
}

TEST(ClassifyError, ConnectionAndShutdownStatesAreRecoverable) {
  EXPECT_EQ(classify_sqlstate("08001"), ErrorKind::kCannotConnect);
  for (const char* state : {"08006", "08003", "08000", "57P01", "57P02", "57P03", "53300"}) {
    EXPECT_EQ(classify_sqlstate(state), ErrorKind::kConnectionLost) << state;
  }
  for (const char* state : {"23505", "23502", "42P01", "42703", "22P02", "XX000", ""}) {
    EXPECT_EQ(classify_sqlstate(state), ErrorKind::kFatal) << state;
  }
}

TEST(ClassifyError, OnlyDatabaseErrorsCanBeRecoverable) {
  EXPECT_EQ(classify_error(PgError("57P01", "terminating connection")), ErrorKind::kConnectionLost);
  EXPECT_EQ(classify_error(PgError("23505", "duplicate key")), ErrorKind::kFatal);
  EXPECT_EQ(classify_error(std::runtime_error("bad mapping")), ErrorKind::kFatal);
  EXPECT_EQ(failure_stop_reason(ErrorKind::kConnectionLost), "Stop Reason RECOVERABLE_ERROR");
  EXPECT_EQ(failure_stop_reason(ErrorKind::kFatal), "Stop Reason FATAL_ERROR");
}

TEST(RecoverableSettings, DefaultsAreDmsServiceDefaults) {
  const auto policy = parse_full_load_settings("").recoverable;
  EXPECT_EQ(policy.count, -1);
  EXPECT_EQ(policy.interval, seconds(5));
  EXPECT_TRUE(policy.throttling);
  EXPECT_EQ(policy.throttling_max, seconds(1800));
  EXPECT_TRUE(policy.stop_after_throttling_max);
}

TEST(RecoverableSettings, ReadsEveryMember) {
  const auto policy = parse_full_load_settings(
                          R"({"ErrorBehavior": {"RecoverableErrorCount": 4,
                              "RecoverableErrorInterval": 1, "RecoverableErrorThrottling": false,
                              "RecoverableErrorThrottlingMax": 60,
                              "RecoverableErrorStopRetryAfterThrottlingMax": false}})")
                          .recoverable;
  EXPECT_EQ(policy.count, 4);
  EXPECT_EQ(policy.interval, seconds(1));
  EXPECT_FALSE(policy.throttling);
  EXPECT_EQ(policy.throttling_max, seconds(60));
  EXPECT_FALSE(policy.stop_after_throttling_max);
}

TEST(RecoverableSettings, WrongTypesAndRangesNameTheMember) {
  const auto message = [](const char* settings) {
    try {
      (void)parse_full_load_settings(settings);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(R"({"ErrorBehavior": {"RecoverableErrorCount": "5"}})"),
            "ErrorBehavior.RecoverableErrorCount must be an integer between -1 and 1000000000");
  EXPECT_EQ(message(R"({"ErrorBehavior": {"RecoverableErrorCount": -2}})"),
            "ErrorBehavior.RecoverableErrorCount must be an integer between -1 and 1000000000");
  EXPECT_EQ(message(R"({"ErrorBehavior": {"RecoverableErrorInterval": 0}})"),
            "ErrorBehavior.RecoverableErrorInterval must be an integer between 1 and 1000000000");
  EXPECT_EQ(message(R"({"ErrorBehavior": {"RecoverableErrorThrottling": 1}})"),
            "ErrorBehavior.RecoverableErrorThrottling must be true or false");
  EXPECT_EQ(message(R"({"ErrorBehavior": {"RecoverableErrorStopRetryAfterThrottlingMax": "x"}})"),
            "ErrorBehavior.RecoverableErrorStopRetryAfterThrottlingMax must be true or false");
}

}  // namespace
