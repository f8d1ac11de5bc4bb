#include "orchestrate/watcher.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "dms_test_support.hpp"
#include "orchestrate/resource_states.hpp"

namespace dagster_dms::orchestrate {
namespace {

using nlohmann::json;
using testing::ClientHarness;

constexpr const char* kLoadArn = "arn:aws:dms:us-east-1:000000000000:task:LOAD";
constexpr const char* kCdcArn = "arn:aws:dms:us-east-1:000000000000:task:CDC";

json task(const char* arn, const char* type, const char* status, json stats = json::object(),
          const char* stop_reason = nullptr) {
  json t{{"ReplicationTaskArn", arn}, {"MigrationType", type}, {"Status", status}};
  if (!stats.empty()) t["ReplicationTaskStats"] = std::move(stats);
  if (stop_reason != nullptr) t["StopReason"] = stop_reason;
  return t;
}

std::vector<WatchedTask> watched() {
  return {{{kLoadArn, "ri", "LOAD"}, false}, {{kCdcArn, "ri", "CDC"}, true}};
}

class WatcherTest : public ::testing::Test {
 protected:
  ClientHarness harness;
  dms::DmsClient dms{harness.session};
  dms::CloudWatchClient cloudwatch{harness.session};
  Watcher watcher{dms, cloudwatch};
};

TEST_F(WatcherTest, AFirstLookReportsEveryTaskAsChangedButNoFinishedLoad) {
  harness.reply(json{{"ReplicationTasks", json::array({task(kLoadArn, "full-load", "stopped",
                                                            json{{"StopDate", 1765000000}},
                                                            "Stop Reason FULL_LOAD_ONLY_FINISHED"),
                                                       task(kCdcArn, "cdc", "stopped")})}});
  const WatchResult result = watcher.look(watched(), {}, 60);
  ASSERT_EQ(result.tasks.size(), 2u);
  for (const auto& watch : result.tasks) {
    EXPECT_TRUE(watch.changed);
    EXPECT_FALSE(watch.full_load_finished_at.has_value());
  }
  EXPECT_TRUE(result.missing.empty());
  // Nothing running: no metric call.
  EXPECT_EQ(harness.calls().size(), 1u);
}

TEST_F(WatcherTest, ALoadFinishedSinceTheLastLookIsReportedWithItsTime) {
  TaskFacts before;
  before.status = "running";
  harness.reply(
      json{{"ReplicationTasks",
            json::array({task(kLoadArn, "full-load", "stopped", json{{"StopDate", 1765000000.25}},
                              "Stop Reason FULL_LOAD_ONLY_FINISHED")})}});
  const WatchResult result = watcher.look(watched(), {{kLoadArn, before}}, 60);
  ASSERT_EQ(result.tasks.size(), 1u);
  EXPECT_EQ(result.tasks[0].full_load_finished_at, "2025-12-06T05:46:40.250000+00:00");
  EXPECT_EQ(result.missing, std::vector<std::string>{kCdcArn});
}

TEST_F(WatcherTest, UnchangedFactsAreNoChangeAndRunningCdcTasksGetTheirMetrics) {
  harness.reply(json{{"ReplicationTasks", json::array({task(kCdcArn, "cdc", "running"),
                                                       task(kLoadArn, "full-load", "ready")})}});
  harness.reply(json{
      {"MetricDataResults", json::array({json{{"Id", "t0m0"},
                                              {"Timestamps", json::array({1765000000, 1765000060})},
                                              {"Values", json::array({1.0, 2.04})}}})}});
  TaskFacts load;
  load.status = "ready";
  const WatchResult result = watcher.look(watched(), {{kLoadArn, load}}, 60);
  ASSERT_EQ(result.tasks.size(), 2u);
  const auto& cdc = result.tasks[0];
  EXPECT_EQ(cdc.arn, kCdcArn);
  EXPECT_TRUE(cdc.changed);
  EXPECT_DOUBLE_EQ(cdc.cdc_latency_seconds.at("CDCLatencySource"), 2.04);
  EXPECT_DOUBLE_EQ(cdc.facts.cdc.at("CDCLatencySource_seconds"), 2.0);
  EXPECT_FALSE(result.tasks[1].changed);
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].operation, "GetMetricData");
  // Only the running CDC task's metrics are asked for: three queries.
  EXPECT_EQ(calls[1].body["MetricDataQueries"].size(), 3u);
}

TEST_F(WatcherTest, WithoutGetMetricDataTheMetricsComeFromGetMetricStatistics) {
  harness.reply(json{{"ReplicationTasks", json::array({task(kCdcArn, "cdc", "running")})}});
  harness.fail(400, "AccessDeniedException", "not authorized to perform cloudwatch:GetMetricData");
  harness.reply(
      json{{"Datapoints", json::array({json{{"Timestamp", 1765000000}, {"Average", 7.0}}})}});
  harness.reply(json{{"Datapoints", json::array()}});
  harness.reply(json{{"Datapoints", json::array()}});
  const WatchResult result = watcher.look(watched(), {}, 60);
  ASSERT_EQ(result.tasks.size(), 1u);
  EXPECT_DOUBLE_EQ(result.tasks[0].cdc_latency_seconds.at("CDCLatencySource"), 7.0);
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_NE(result.notes[0].find("cloudwatch:GetMetricData"), std::string::npos);
}

TEST(IsoformatUtc, WritesWhatPythonsIsoformatWrites) {
  const auto when = dms::Timestamp{std::chrono::seconds(1765000000)};
  EXPECT_EQ(isoformat_utc(when), "2025-12-06T05:46:40+00:00");
  EXPECT_EQ(isoformat_utc(when + std::chrono::microseconds(5)), "2025-12-06T05:46:40.000005+00:00");
}

TEST(ResourceStates, SayWhatStatusesMean) {
  EXPECT_TRUE(is_instance_available("available"));
  EXPECT_FALSE(is_instance_available("modifying"));
  EXPECT_TRUE(is_connection_failed("failed"));
  EXPECT_FALSE(is_connection_failed("successful"));
  EXPECT_TRUE(is_table_errored("Table error"));
  EXPECT_TRUE(is_table_errored("table error: duplicate key"));
  EXPECT_FALSE(is_table_errored("Table completed"));
  EXPECT_FALSE(is_table_errored(""));
}

}  // namespace
}  // namespace dagster_dms::orchestrate
