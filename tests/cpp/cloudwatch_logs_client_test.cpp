// CloudWatchClient and LogsClient against a scripted transport: GetMetricData batching at 500
// queries with NextToken and per-Id merging, and the Logs pagination rules.

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dms/cloudwatch_client.hpp"
#include "dms/dispatch.hpp"
#include "dms/logs_client.hpp"
#include "dms_test_support.hpp"

namespace dagster_dms::dms {
namespace {

using nlohmann::json;
using testing::ClientHarness;

std::vector<cloudwatch::MetricDataQuery> queries(std::size_t count) {
  std::vector<cloudwatch::MetricDataQuery> out;
  for (std::size_t i = 0; i < count; ++i) {
    cloudwatch::MetricDataQuery query;
    query.id = "q" + std::to_string(i);
    query.expression = "SELECT AVG(CDCLatencySource) FROM \"AWS/DMS\"";
    query.period = 60;
    out.push_back(std::move(query));
  }
  return out;
}

json result(const std::string& id, long timestamp, double value, const std::string& status) {
  return {{"Id", id}, {"Timestamps", {timestamp}}, {"Values", {value}}, {"StatusCode", status}};
}

TEST(CloudWatchClientTest, GetMetricDataBatchesAt500AndMergesPerId) {
  ClientHarness harness;
  CloudWatchClient client(harness.session);
  // Batch 1 (q0..q499) takes two pages; batches 2 and 3 take one each.
  harness.reply(
      {{"MetricDataResults", {result("q0", 1700000000, 1, "PartialData")}}, {"NextToken", "t1"}});
  harness.reply(
      {{"MetricDataResults",
        {result("q0", 1700000060, 2, "Complete"), result("q1", 1700000000, 5, "Complete")}},
       {"Messages", {{{"Code", "Note"}, {"Value", "partial"}}}}});
  harness.reply({{"MetricDataResults", {result("q500", 1700000000, 7, "Complete")}}});
  harness.reply({{"MetricDataResults", {result("q1000", 1700000000, 9, "Complete")}}});

  const Timestamp start{std::chrono::seconds(1700000000)};
  const auto merged =
      client.get_metric_data_all(queries(1200), start, start + std::chrono::hours(1));

  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 4U);
  EXPECT_EQ(calls[0].operation, "GetMetricData");
  EXPECT_EQ(calls[0].body.at("MetricDataQueries").size(), 500U);
  EXPECT_FALSE(calls[0].body.contains("NextToken"));
  EXPECT_EQ(calls[1].body.at("NextToken"), "t1");
  EXPECT_EQ(calls[1].body.at("MetricDataQueries").size(), 500U);
  EXPECT_EQ(calls[2].body.at("MetricDataQueries").size(), 500U);
  EXPECT_EQ(calls[2].body.at("MetricDataQueries").at(0).at("Id"), "q500");
  EXPECT_FALSE(calls[2].body.contains("NextToken"));
  EXPECT_EQ(calls[3].body.at("MetricDataQueries").size(), 200U);
  EXPECT_EQ(calls[0].body.at("StartTime"), 1700000000);
  EXPECT_EQ(calls[0].body.at("EndTime"), 1700003600);

  ASSERT_EQ(merged.metric_data_results->size(), 4U);
  const auto& q0 = merged.metric_data_results->at(0);
  EXPECT_EQ(q0.id, "q0");
  EXPECT_EQ(q0.values, (std::vector<double>{1, 2}));
  EXPECT_EQ(q0.timestamps->size(), 2U);
  EXPECT_EQ(q0.status_code, "Complete");
  EXPECT_EQ(merged.metric_data_results->at(3).id, "q1000");
  EXPECT_EQ(merged.messages->size(), 1U);
  EXPECT_FALSE(merged.next_token);
}

TEST(CloudWatchClientTest, DispatcherCallsOnePage) {
  ClientHarness harness;
  CloudWatchClient client(harness.session);
  harness.reply({{"Datapoints", {{{"Timestamp", 1700000000}, {"Average", 2.5}}}}, {"Label", "L"}});
  const json out = invoke(client, "GetMetricStatistics",
                          json::parse(R"({"Namespace": "AWS/DMS", "MetricName": "CDCLatencySource",
                      "StartTime": 1700000000, "EndTime": 1700003600, "Period": 60,
                      "Statistics": ["Average"]})"));
  EXPECT_EQ(out.at("Datapoints").at(0).at("Average"), 2.5);
  EXPECT_EQ(harness.calls().at(0).operation, "GetMetricStatistics");
  EXPECT_THROW(invoke(client, "PutMetricData", json::object()), std::invalid_argument);
}

TEST(LogsClientTest, GetLogEventsStopsWhenTheTokenRepeats) {
  ClientHarness harness;
  LogsClient client(harness.session);
  harness.reply({{"events", {{{"timestamp", 1}, {"message", "a"}}}}, {"nextForwardToken", "f/1"}});
  harness.reply({{"events", {{{"timestamp", 2}, {"message", "b"}}}}, {"nextForwardToken", "f/2"}});
  harness.reply({{"events", json::array()}, {"nextForwardToken", "f/2"}});
  logs::GetLogEventsRequest input;
  input.log_group_name = "dms-tasks-ri-1";
  input.log_stream_name = "dms-task-TASK1";
  input.start_from_head = true;
  const auto events = client.get_log_events_all(input);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[1].message, "b");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 3U);
  EXPECT_EQ(calls[2].body.at("nextToken"), "f/2");
  EXPECT_EQ(calls[0].body.at("logStreamName"), "dms-task-TASK1");
}

TEST(LogsClientTest, DescribeLogStreamsFollowsNextToken) {
  ClientHarness harness;
  LogsClient client(harness.session);
  harness.reply({{"logStreams", {{{"logStreamName", "s1"}}}}, {"nextToken", "n1"}});
  harness.reply({{"logStreams", {{{"logStreamName", "s2"}}}}});
  logs::DescribeLogStreamsRequest input;
  input.log_group_name = "dms-tasks-ri-1";
  const auto streams = client.describe_log_streams_all(input);
  ASSERT_EQ(streams.size(), 2U);
  EXPECT_EQ(harness.calls().at(1).body.at("nextToken"), "n1");
}

}  // namespace
}  // namespace dagster_dms::dms
