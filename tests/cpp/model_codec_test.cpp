// The generic model codec through the generated structures: wire names, optional members,
// unknown members, type errors naming the path, timestamps and redaction.

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "aws/errors.hpp"
#include "dms/model/cloudwatch_model.hpp"
#include "dms/model/dms_model.hpp"
#include "dms/model/logs_model.hpp"

namespace dagster_dms::dms {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string error_of(const json& document) {
  try {
    (void)document.get<DescribeReplicationTasksResponse>();
  } catch (const aws::ProtocolError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelCodec, SnakeCaseMembersAndWireNames) {
  ReplicationTask task;
  task.replication_task_arn = "arn:aws:dms:us-east-1:1:task:A";
  task.replication_task_stats.emplace().full_load_progress_percent = 42;
  task.status = "running";
  const json wire = task;
  EXPECT_EQ(wire, json::parse(R"({"ReplicationTaskArn": "arn:aws:dms:us-east-1:1:task:A",
                                  "Status": "running",
                                  "ReplicationTaskStats": {"FullLoadProgressPercent": 42}})"));
  // Unset optionals are omitted, not written as null.
  EXPECT_FALSE(wire.contains("StopReason"));

  // Acronyms and product names read as words.
  Endpoint endpoint;
  endpoint.postgresql_settings.emplace().slot_name = "slot";
  endpoint.kms_key_id = "key";
  const json endpoint_wire = endpoint;
  EXPECT_EQ(endpoint_wire.at("PostgreSQLSettings").at("SlotName"), "slot");
  EXPECT_EQ(endpoint_wire.at("KmsKeyId"), "key");
}

TEST(ModelCodec, RequiredMembersArePlainAndChecked) {
  Filter filter;  // Name and Values are required: plain members
  filter.name = "replication-task-id";
  filter.values = {"a", "b"};
  EXPECT_EQ(json(filter), json::parse(R"({"Name": "replication-task-id", "Values": ["a", "b"]})"));

  try {
    (void)json::parse(R"({"Filters": [{"Name": "x"}]})").get<DescribeReplicationTasksMessage>();
    FAIL() << "a missing required member must throw";
  } catch (const aws::ProtocolError& e) {
    EXPECT_NE(std::string(e.what()).find("Filters[0].Values"), std::string::npos) << e.what();
  }
}

TEST(ModelCodec, UnknownMembersArePreservedAtEveryLevel) {
  const json wire = json::parse(R"({
    "ReplicationTasks": [{"ReplicationTaskIdentifier": "t1", "BrandNewField": {"x": [1, 2]},
                          "ReplicationTaskStats": {"TablesLoaded": 3, "FutureCounter": 7}}],
    "SomethingElse": true})");
  const auto response = wire.get<DescribeReplicationTasksResponse>();
  EXPECT_EQ(response.unknown_fields, json::parse(R"({"SomethingElse": true})"));
  const auto& task = response.replication_tasks->at(0);
  EXPECT_EQ(task.unknown_fields.at("BrandNewField"), json::parse(R"({"x": [1, 2]})"));
  EXPECT_EQ(task.replication_task_stats->unknown_fields.at("FutureCounter"), 7);
  EXPECT_EQ(json(response), wire);
}

TEST(ModelCodec, TypeMismatchNamesThePath) {
  EXPECT_EQ(error_of(json::parse(
                R"({"ReplicationTasks": [{}, {"ReplicationTaskStats": {"TablesLoaded": "3"}}]})")),
            "invalid value at ReplicationTasks[1].ReplicationTaskStats.TablesLoaded: expected an "
            "integer, got a string");
  EXPECT_EQ(error_of(json::parse(R"({"ReplicationTasks": {"a": 1}})")),
            "invalid value at ReplicationTasks: expected a list, got an object");
  EXPECT_EQ(error_of(json::parse(R"({"Marker": 5})")),
            "invalid value at Marker: expected a string, got an integer");
  EXPECT_EQ(error_of(json::parse(R"([1])")),
            "invalid value at (document): expected an object, got a list");
  EXPECT_NE(error_of(json::parse(R"({"ReplicationTasks": [{"ReplicationTaskStartDate": "soon"}]})"))
                .find("ReplicationTasks[0].ReplicationTaskStartDate"),
            std::string::npos);
}

TEST(ModelCodec, NullMeansAbsent) {
  const auto stats =
      json::parse(R"({"StopDate": null, "TablesLoaded": 2})").get<ReplicationTaskStats>();
  EXPECT_FALSE(stats.stop_date);
  EXPECT_EQ(stats.tables_loaded, 2);
}

TEST(ModelCodec, WholeDoublesAreIntegers) {
  const auto stats = json::parse(R"({"TablesLoaded": 2.0})").get<ReplicationTaskStats>();
  EXPECT_EQ(stats.tables_loaded, 2);
  EXPECT_THROW((void)json::parse(R"({"TablesLoaded": 2.5})").get<ReplicationTaskStats>(),
               aws::ProtocolError);
}

TEST(ModelCodec, TimestampsAreEpochSecondsOnTheWire) {
  const auto stats = json::parse(R"({"StartDate": 1481739943, "StopDate": 1481739943.25})")
                         .get<ReplicationTaskStats>();
  EXPECT_EQ(stats.start_date->time_since_epoch(), seconds(1481739943));
  EXPECT_EQ(*stats.stop_date - *stats.start_date, std::chrono::milliseconds(250));
  EXPECT_EQ(format_iso8601(*stats.stop_date), "2016-12-14T18:25:43.250000Z");
  const json back = stats;
  EXPECT_EQ(back.at("StartDate"), 1481739943);
  EXPECT_DOUBLE_EQ(back.at("StopDate").get<double>(), 1481739943.25);
}

TEST(ModelCodec, TimestampsAcceptIsoStrings) {
  const Timestamp expected{seconds(1481739943)};
  EXPECT_EQ(parse_timestamp("2016-12-14T18:25:43Z"), expected);
  EXPECT_EQ(parse_timestamp("2016-12-14T18:25:43.000Z"), expected);
  EXPECT_EQ(parse_timestamp("2016-12-14T20:25:43+02:00"), expected);
  EXPECT_EQ(parse_timestamp("2016-12-14T13:25:43-0500"), expected);
  EXPECT_EQ(parse_timestamp("2016-12-14T18:25:43"), expected);
  EXPECT_EQ(parse_timestamp("1481739943"), expected);
  EXPECT_EQ(parse_timestamp(1481739943.0), expected);
  EXPECT_FALSE(parse_timestamp("2016-13-14T18:25:43Z"));
  EXPECT_FALSE(parse_timestamp("yesterday"));
  EXPECT_FALSE(parse_timestamp(true));
  EXPECT_EQ(format_iso8601(expected), "2016-12-14T18:25:43Z");
}

TEST(ModelCodec, SensitiveMembersAreRedactedForDisplay) {
  CreateEndpointMessage input;
  input.endpoint_identifier = "source";
  input.endpoint_type = "source";
  input.engine_name = "postgres";
  input.password = "hunter2";
  input.postgresql_settings.emplace().password = "also-secret";
  input.postgresql_settings->server_name = "db.example.com";
  input.unknown_fields["NewSecretToken"] = "s3cr3t";
  input.unknown_fields["Harmless"] = "visible";

  // The request itself carries the secrets...
  const json request = input;
  EXPECT_EQ(request.at("Password"), "hunter2");
  EXPECT_EQ(request.at("PostgreSQLSettings").at("Password"), "also-secret");

  // ...the display form never does.
  const json shown = to_redacted_json(input);
  EXPECT_EQ(shown.at("Password"), "****");
  EXPECT_EQ(shown.at("PostgreSQLSettings").at("Password"), "****");
  EXPECT_EQ(shown.at("PostgreSQLSettings").at("ServerName"), "db.example.com");
  EXPECT_EQ(shown.at("NewSecretToken"), "****");
  EXPECT_EQ(shown.at("Harmless"), "visible");
  EXPECT_EQ(shown.dump().find("hunter2"), std::string::npos);
  EXPECT_EQ(shown.dump().find("also-secret"), std::string::npos);
}

TEST(ModelCodec, CloudWatchAndLogsShapes) {
  const auto output = json::parse(R"({
    "MetricDataResults": [{"Id": "q1", "Timestamps": [1700000000, 1700000060],
                           "Values": [1.5, "NaN"], "StatusCode": "Complete"}]})")
                          .get<cloudwatch::GetMetricDataOutput>();
  const auto& result = output.metric_data_results->at(0);
  EXPECT_EQ(result.id, "q1");
  ASSERT_EQ(result.values->size(), 2U);
  EXPECT_TRUE(std::isnan(result.values->at(1)));
  EXPECT_EQ(json(output).at("MetricDataResults").at(0).at("Values").at(1), "NaN");

  cloudwatch::Dimension dimension;  // required members
  dimension.name = "ReplicationInstanceIdentifier";
  dimension.value = "ri-1";
  EXPECT_EQ(json(dimension), json::parse(R"({"Name": "ReplicationInstanceIdentifier",
                                             "Value": "ri-1"})"));

  const auto events = json::parse(R"({"events": [{"timestamp": 1700000000000, "message": "hi"}],
                                      "nextForwardToken": "f/1"})")
                          .get<logs::GetLogEventsResponse>();
  EXPECT_EQ(events.events->at(0).timestamp, 1700000000000);
  EXPECT_EQ(events.next_forward_token, "f/1");
}

}  // namespace
}  // namespace dagster_dms::dms
