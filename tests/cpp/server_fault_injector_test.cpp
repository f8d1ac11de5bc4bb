// dms-local's fault injection: the DMS API token bucket on a fake clock, 5xx rolls, latency and
// the admin document.
#include <gtest/gtest.h>

#include <vector>

#include "server/front/api_error.hpp"
#include "server/front/fault_injector.hpp"

namespace dagster_dms::server {
namespace {

using namespace std::chrono_literals;
using TimePoint = TokenBucket::TimePoint;

TEST(TokenBucket, AllowsTheBurstThenRefillsAtTheRate) {
  const TimePoint start{};
  TokenBucket bucket(200, 8, start);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(bucket.try_take(start)) << "request " << i;
  EXPECT_FALSE(bucket.try_take(start));
  // 8 per second: one token every 125 ms.
  EXPECT_FALSE(bucket.try_take(start + 124ms));
  EXPECT_TRUE(bucket.try_take(start + 125ms));
  EXPECT_FALSE(bucket.try_take(start + 125ms));
  // A second later, eight more.
  int passed = 0;
  while (bucket.try_take(start + 1125ms)) ++passed;
  EXPECT_EQ(passed, 8);
}

TEST(TokenBucket, NeverHoldsMoreThanItsCapacity) {
  const TimePoint start{};
  TokenBucket bucket(200, 8, start);
  const TimePoint later = start + 1h;
  EXPECT_DOUBLE_EQ(bucket.tokens(later), 200);
  int passed = 0;
  while (bucket.try_take(later)) ++passed;
  EXPECT_EQ(passed, 200);
}

TEST(TokenBucket, AClockSteppingBackDoesNotDrainIt) {
  const TimePoint start = TimePoint{} + 10s;
  TokenBucket bucket(2, 8, start);
  EXPECT_TRUE(bucket.try_take(start));
  EXPECT_TRUE(bucket.try_take(start - 5s));
  EXPECT_FALSE(bucket.try_take(start - 5s));
  EXPECT_TRUE(bucket.try_take(start + 125ms));
}

// A fault injector on a fake clock whose sleeps only advance that clock.
struct FakeTime {
  TimePoint now{};
  std::vector<std::chrono::milliseconds> sleeps;
  FaultInjector injector() {
    return FaultInjector([this] { return now; },
                         [this](std::chrono::milliseconds duration) {
                           sleeps.push_back(duration);
                           now += duration;
                         },
                         42);
  }
};

std::string error_code_of(FaultInjector& faults, const std::string& account = "000000000000",
                          const std::string& region = "us-east-1",
                          std::string_view service = "dms") {
  try {
    faults.before_dispatch(account, region, service);
  } catch (const ApiError& error) {
    return error.code() + "/" + std::to_string(error.http_status()) + "/" + error.what();
  }
  return "";
}

TEST(FaultInjector, IsOffByDefault) {
  FakeTime time;
  auto faults = time.injector();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(error_code_of(faults), "");
  EXPECT_TRUE(time.sleeps.empty());
  EXPECT_EQ(faults.counters().requests, 1000u);
  EXPECT_EQ(faults.counters().throttled, 0u);
}

TEST(FaultInjector, ThrottlesPerAccountAndRegionLikeTheDmsApi) {
  FakeTime time;
  auto faults = time.injector();
  FaultSettings settings;
  settings.throttle = true;
  faults.configure(settings);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(error_code_of(faults), "");
  EXPECT_EQ(error_code_of(faults), "ThrottlingException/400/Rate exceeded");
  // Another region and another account have their own buckets; other services are not limited.
  EXPECT_EQ(error_code_of(faults, "000000000000", "eu-west-1"), "");
  EXPECT_EQ(error_code_of(faults, "111111111111", "us-east-1"), "");
  EXPECT_EQ(error_code_of(faults, "000000000000", "us-east-1", "monitoring"), "");
  time.now += 125ms;
  EXPECT_EQ(error_code_of(faults), "");
  EXPECT_NE(error_code_of(faults), "");
  EXPECT_EQ(faults.counters().throttled, 2u);
  // Turning throttling off and on again starts from a full bucket.
  settings.throttle = false;
  faults.configure(settings);
  settings.throttle = true;
  faults.configure(settings);
  EXPECT_EQ(error_code_of(faults), "");
}

TEST(FaultInjector, AppliesLatencyBeforeAnswering) {
  FakeTime time;
  auto faults = time.injector();
  faults.apply_json({{"latency_ms", 250}});
  EXPECT_EQ(error_code_of(faults), "");
  ASSERT_EQ(time.sleeps.size(), 1u);
  EXPECT_EQ(time.sleeps[0], 250ms);
  EXPECT_EQ(faults.counters().delayed, 1u);
}

TEST(FaultInjector, ServerErrorsComeAtTheConfiguredRate) {
  FakeTime time;
  auto faults = time.injector();
  faults.apply_json({{"server_error_rate", 0.25}, {"seed", 7}});
  int failed = 0;
  for (int i = 0; i < 4000; ++i) {
    const auto code = error_code_of(faults);
    if (code.empty()) continue;
    ++failed;
    ASSERT_TRUE(code.starts_with("InternalFailure/500/") ||
                code.starts_with("ServiceUnavailable/503/"))
        << code;
  }
  EXPECT_NEAR(failed, 1000, 150);
  const auto counters = faults.counters();
  EXPECT_EQ(counters.internal_failures + counters.service_unavailable,
            static_cast<std::uint64_t>(failed));
  EXPECT_GT(counters.internal_failures, 0u);
  EXPECT_GT(counters.service_unavailable, 0u);
  faults.apply_json({{"server_error_rate", 1}});
  EXPECT_NE(error_code_of(faults), "");
}

TEST(FaultInjector, AdminDocumentRoundTripsAndRejectsNonsense) {
  FakeTime time;
  auto faults = time.injector();
  faults.apply_json({{"throttle", true}, {"throttle_burst", 5}, {"latency_ms", 10}});
  auto state = faults.state_json();
  EXPECT_EQ(state["throttle"], true);
  EXPECT_EQ(state["throttle_burst"], 5.0);
  EXPECT_EQ(state["throttle_refill_per_second"], 8.0);
  EXPECT_EQ(state["latency_ms"], 10);
  for (int i = 0; i < 6; ++i) (void)error_code_of(faults);
  EXPECT_EQ(faults.state_json()["counters"]["throttled"], 1);
  faults.apply_json({{"reset_counters", true}});
  EXPECT_EQ(faults.state_json()["counters"]["requests"], 0);

  for (const auto& bad :
       {nlohmann::json::array(), nlohmann::json{{"latency_ms", -1}},
        nlohmann::json{{"server_error_rate", 1.5}}, nlohmann::json{{"throttle", "yes"}},
        nlohmann::json{{"throttle_burst", 0}}, nlohmann::json{{"password", "x"}}}) {
    EXPECT_THROW(faults.apply_json(bad), ApiError) << bad.dump();
  }
  // A rejected document changes nothing.
  EXPECT_THROW(faults.apply_json({{"throttle", false}, {"latency_ms", "slow"}}), ApiError);
  EXPECT_TRUE(faults.settings().throttle);
}

TEST(FaultInjector, CdcApplyDelayIsSetByTheAdminDocumentAndCounted) {
  FakeTime time;
  auto faults = time.injector();
  EXPECT_EQ(faults.take_cdc_apply_delay(), 0ms);
  EXPECT_EQ(faults.counters().cdc_commits_delayed, 0u);
  faults.apply_json({{"cdc_apply_delay_ms", 1500}});
  EXPECT_EQ(faults.state_json()["cdc_apply_delay_ms"], 1500);
  EXPECT_EQ(faults.take_cdc_apply_delay(), 1500ms);
  EXPECT_EQ(faults.take_cdc_apply_delay(), 1500ms);
  EXPECT_EQ(faults.state_json()["counters"]["cdc_commits_delayed"], 2);
  // The delay is the data plane's: API requests are not slowed by it.
  EXPECT_EQ(error_code_of(faults), "");
  EXPECT_TRUE(time.sleeps.empty());
  faults.apply_json({{"cdc_apply_delay_ms", 0}});
  EXPECT_EQ(faults.take_cdc_apply_delay(), 0ms);
  EXPECT_EQ(faults.counters().cdc_commits_delayed, 2u);
  for (const auto& bad :
       {nlohmann::json{{"cdc_apply_delay_ms", -1}}, nlohmann::json{{"cdc_apply_delay_ms", "1s"}},
        nlohmann::json{{"cdc_apply_delay_ms", kMaxCdcApplyDelayMs + 1}}}) {
    EXPECT_THROW(faults.apply_json(bad), ApiError) << bad.dump();
  }
  EXPECT_EQ(faults.settings().cdc_apply_delay, 0ms);
}

TEST(FaultInjector, LoopbackAddresses) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("127.1.2.3"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_TRUE(is_loopback_address("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_address("10.0.0.1"));
  EXPECT_FALSE(is_loopback_address("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_address(""));
}

}  // namespace
}  // namespace dagster_dms::server
