// dms-local's CloudWatch Logs side: the DMS task log line, filter patterns, the log store and the
// Logs operations' tokens, paging and errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "server/execution/task_executor.hpp"
#include "server/front/api_error.hpp"
#include "server/store/sqlite_db.hpp"
#include "server/telemetry/log_filter_pattern.hpp"
#include "server/telemetry/log_store.hpp"
#include "server/telemetry/logs_service.hpp"
#include "server/telemetry/task_log.hpp"
#include "server/telemetry/task_telemetry.hpp"

namespace dagster_dms::server {
namespace {

TEST(TaskLogLine, HasDmsShape) {
  const auto when = std::chrono::sys_days{std::chrono::year{2024} / 3 / 5} +
                    std::chrono::hours(14) + std::chrono::minutes(10) +
                    std::chrono::milliseconds(20'866);
  EXPECT_EQ(format_task_log_line(when, 'I', "SOURCE_UNLOAD", "Unload finished for table 'a'"),
            "2024-03-05T14:10:20 [SOURCE_UNLOAD   ]I:  Unload finished for table 'a'");
  EXPECT_EQ(format_task_log_line(when, 'E', "TASK_MANAGER", "line one\nline two"),
            "2024-03-05T14:10:20 [TASK_MANAGER    ]E:  line one line two");
  const std::regex shape(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d \[[A-Z_ ]{16}\][IWE]:  .+$)");
  EXPECT_TRUE(std::regex_match(format_task_log_line(when, 'W', "TARGET_LOAD", "x"), shape));
  EXPECT_EQ(task_log_group("local"), "dms-tasks-local");
  EXPECT_EQ(task_log_stream("ABC123"), "dms-task-ABC123");
}

TEST(TaskTelemetryIdentity, LogNamesOnlyWhenLoggingIsEnabled) {
  TaskRun run;
  run.task.replication_task_arn = "arn:aws:dms:eu-west-1:123456789012:task:ABC";
  run.task.replication_task_identifier = "orders";
  run.instance_identifier = "local";
  run.task.replication_task_settings = R"({"Logging":{"EnableLogging":false}})";
  auto identity = task_telemetry_identity(run);
  EXPECT_EQ(identity.account, "123456789012");
  EXPECT_EQ(identity.region, "eu-west-1");
  EXPECT_EQ(identity.task_resource_id, "ABC");
  EXPECT_FALSE(identity.log_group);

  run.task.replication_task_settings =
      R"({"Logging":{"EnableLogging":true,"CloudWatchLogGroup":null}})";
  identity = task_telemetry_identity(run);
  EXPECT_EQ(identity.log_group, "dms-tasks-local");
  EXPECT_EQ(identity.log_stream, "dms-task-ABC");
}

TEST(TaskTelemetryIdentity, MetricDimensionsOfTasksAndServerlessReplications) {
  TaskRun task;
  task.task.replication_task_arn = "arn:aws:dms:eu-west-1:123456789012:task:ABC";
  task.instance_identifier = "local";
  const std::vector<std::pair<std::string, std::string>> task_dimensions{
      {"ReplicationInstanceIdentifier", "local"}, {"ReplicationTaskIdentifier", "ABC"}};
  EXPECT_EQ(metric_dimensions(task_telemetry_identity(task)), task_dimensions);

  // A serverless replication has no instance: never an empty ReplicationInstanceIdentifier.
  TaskRun config;
  config.task.replication_task_arn = "arn:aws:dms:eu-west-1:123456789012:replication-config:XYZ";
  const std::vector<std::pair<std::string, std::string>> config_dimensions{
      {"ReplicationConfigId", "123456789012:XYZ"}};
  EXPECT_EQ(metric_dimensions(task_telemetry_identity(config)), config_dimensions);
}

TEST(LogFilterPattern, TermsPhrasesAlternativesAndExclusions) {
  const std::string line = "2024-03-05T14:10:20 [TARGET_LOAD     ]E:  Failed to load table x";
  EXPECT_TRUE(LogFilterPattern::parse("").matches(line));
  EXPECT_TRUE(LogFilterPattern::parse("Failed table").matches(line));
  EXPECT_FALSE(LogFilterPattern::parse("Failed missing").matches(line));
  EXPECT_TRUE(LogFilterPattern::parse("\"to load table\"").matches(line));
  EXPECT_FALSE(LogFilterPattern::parse("\"load to\"").matches(line));
  EXPECT_TRUE(LogFilterPattern::parse("?]W: ?]E:").matches(line));
  EXPECT_FALSE(LogFilterPattern::parse("?]W: ?]I:").matches(line));
  EXPECT_FALSE(LogFilterPattern::parse("Failed -TARGET_LOAD").matches(line));
  EXPECT_FALSE(LogFilterPattern::parse("failed").matches(line)) << "case-sensitive";
  EXPECT_THROW(LogFilterPattern::parse("{ $.level = \"ERROR\" }"), std::invalid_argument);
  EXPECT_THROW(LogFilterPattern::parse("[ip, user]"), std::invalid_argument);
  EXPECT_THROW(LogFilterPattern::parse("\"open"), std::invalid_argument);
}

class LogsServiceTest : public ::testing::Test {
 protected:
  LogsServiceTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("dms-local-logs-test-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        db_((std::filesystem::create_directories(dir_), dir_ / "state.sqlite3")),
        store_(db_),
        service_(store_) {
    for (int i = 1; i <= 5; ++i) {
      store_.append("111", "us-east-1", "dms-tasks-local", "dms-task-A", 1000 * i, 1000 * i,
                    "A line " + std::to_string(i));
    }
    store_.append("111", "us-east-1", "dms-tasks-local", "dms-task-B", 2500, 2500, "B ERROR one");
    store_.append("111", "us-east-1", "dms-tasks-other", "dms-task-C", 3000, 3000, "C line");
  }
  ~LogsServiceTest() override { std::filesystem::remove_all(dir_); }

  nlohmann::json call(const std::string& operation, const nlohmann::json& body) {
    return service_.handle(RequestContext{"111", "us-east-1"}, operation, body);
  }
  std::string error_of(const std::string& operation, const nlohmann::json& body) {
    try {
      call(operation, body);
    } catch (const ApiError& error) {
      return error.code() + ": " + error.what();
    }
    return "no error";
  }
  static std::vector<std::string> messages(const nlohmann::json& answer) {
    std::vector<std::string> out;
    for (const auto& event : answer["events"]) out.push_back(event["message"]);
    return out;
  }

  std::filesystem::path dir_;
  SqliteDb db_;
  LogStore store_;
  LogsService service_;
};

TEST_F(LogsServiceTest, GetLogEventsTokensWalkBothWays) {
  const nlohmann::json stream{{"logGroupName", "dms-tasks-local"}, {"logStreamName", "dms-task-A"}};
  // Without a token: the newest events, oldest first.
  auto tail =
      call("GetLogEvents",
           {{"logGroupName", "dms-tasks-local"}, {"logStreamName", "dms-task-A"}, {"limit", 2}});
  EXPECT_EQ(messages(tail), (std::vector<std::string>{"A line 4", "A line 5"}));
  // Forward from the tail: nothing new, and the same token back (the end, for now).
  auto request = stream;
  request["nextToken"] = tail["nextForwardToken"];
  auto end = call("GetLogEvents", request);
  EXPECT_TRUE(end["events"].empty());
  EXPECT_EQ(end["nextForwardToken"], tail["nextForwardToken"]);
  // Backward from the tail: the older ones.
  request["nextToken"] = tail["nextBackwardToken"];
  request["limit"] = 2;
  auto older = call("GetLogEvents", request);
  EXPECT_EQ(messages(older), (std::vector<std::string>{"A line 2", "A line 3"}));
  // From the head, then forward.
  auto head = call("GetLogEvents", {{"logGroupName", "dms-tasks-local"},
                                    {"logStreamName", "dms-task-A"},
                                    {"startFromHead", true},
                                    {"limit", 3}});
  EXPECT_EQ(messages(head), (std::vector<std::string>{"A line 1", "A line 2", "A line 3"}));
  request = stream;
  request["nextToken"] = head["nextForwardToken"];
  EXPECT_EQ(messages(call("GetLogEvents", request)),
            (std::vector<std::string>{"A line 4", "A line 5"}));
  // Time bounds: startTime inclusive, endTime exclusive.
  request = stream;
  request["startFromHead"] = true;
  request["startTime"] = 2000;
  request["endTime"] = 4000;
  EXPECT_EQ(messages(call("GetLogEvents", request)),
            (std::vector<std::string>{"A line 2", "A line 3"}));
}

TEST_F(LogsServiceTest, FilterLogEventsMatchesAcrossStreamsAndPages) {
  auto all = call("FilterLogEvents", {{"logGroupName", "dms-tasks-local"}});
  EXPECT_EQ(all["events"].size(), 6u);
  EXPECT_EQ(all["searchedLogStreams"].size(), 2u);
  auto errors =
      call("FilterLogEvents", {{"logGroupName", "dms-tasks-local"}, {"filterPattern", "ERROR"}});
  ASSERT_EQ(errors["events"].size(), 1u);
  EXPECT_EQ(errors["events"][0]["logStreamName"], "dms-task-B");
  auto named =
      call("FilterLogEvents",
           {{"logGroupName", "dms-tasks-local"}, {"logStreamNames", {"dms-task-A"}}, {"limit", 4}});
  EXPECT_EQ(named["events"].size(), 4u);
  ASSERT_TRUE(named.contains("nextToken"));
  auto rest = call("FilterLogEvents", {{"logGroupName", "dms-tasks-local"},
                                       {"logStreamNames", {"dms-task-A"}},
                                       {"nextToken", named["nextToken"]}});
  EXPECT_EQ(messages(rest), (std::vector<std::string>{"A line 5"}));
  EXPECT_FALSE(rest.contains("nextToken"));
  EXPECT_NE(error_of("FilterLogEvents",
                     {{"logGroupName", "dms-tasks-local"}, {"filterPattern", "{ $.x = 1 }"}})
                .find("InvalidParameterException"),
            std::string::npos);
}

TEST_F(LogsServiceTest, DescribeGroupsAndStreamsWithPrefixesAndPages) {
  auto groups = call("DescribeLogGroups", {{"logGroupNamePrefix", "dms-tasks-"}, {"limit", 1}});
  ASSERT_EQ(groups["logGroups"].size(), 1u);
  EXPECT_EQ(groups["logGroups"][0]["logGroupName"], "dms-tasks-local");
  EXPECT_EQ(groups["logGroups"][0]["arn"],
            "arn:aws:logs:us-east-1:111:log-group:dms-tasks-local:*");
  auto next = call("DescribeLogGroups",
                   {{"logGroupNamePrefix", "dms-tasks-"}, {"nextToken", groups["nextToken"]}});
  EXPECT_EQ(next["logGroups"][0]["logGroupName"], "dms-tasks-other");
  EXPECT_FALSE(next.contains("nextToken"));
  EXPECT_TRUE(call("DescribeLogGroups", {{"logGroupNamePrefix", "nope"}})["logGroups"].empty());

  auto streams = call(
      "DescribeLogStreams",
      {{"logGroupName", "dms-tasks-local"}, {"orderBy", "LastEventTime"}, {"descending", true}});
  ASSERT_EQ(streams["logStreams"].size(), 2u);
  EXPECT_EQ(streams["logStreams"][0]["logStreamName"], "dms-task-A");
  EXPECT_EQ(streams["logStreams"][0]["lastEventTimestamp"], 5000);
  EXPECT_EQ(streams["logStreams"][0]["firstEventTimestamp"], 1000);
  EXPECT_EQ(error_of("DescribeLogStreams", {{"logGroupName", "dms-tasks-local"},
                                            {"orderBy", "LastEventTime"},
                                            {"logStreamNamePrefix", "dms"}}),
            "InvalidParameterException: Cannot order by LastEventTime with a logStreamNamePrefix.");
}

TEST_F(LogsServiceTest, ErrorsNameTheMissingResourceAndBadLimits) {
  EXPECT_EQ(error_of("GetLogEvents", {{"logGroupName", "none"}, {"logStreamName", "x"}}),
            "ResourceNotFoundException: The specified log group does not exist.");
  EXPECT_EQ(error_of("GetLogEvents", {{"logGroupName", "dms-tasks-local"}, {"logStreamName", "x"}}),
            "ResourceNotFoundException: The specified log stream does not exist.");
  EXPECT_NE(
      error_of("GetLogEvents",
               {{"logGroupName", "dms-tasks-local"}, {"logStreamName", "dms-task-A"}, {"limit", 0}})
          .find("InvalidParameterException"),
      std::string::npos);
  EXPECT_EQ(error_of("GetLogEvents", {{"logGroupName", "dms-tasks-local"},
                                      {"logStreamName", "dms-task-A"},
                                      {"nextToken", "zzz"}}),
            "InvalidParameterException: The specified nextToken is invalid.");
  // A log group ARN works as logGroupIdentifier.
  EXPECT_EQ(call("GetLogEvents",
                 {{"logGroupIdentifier", "arn:aws:logs:us-east-1:111:log-group:dms-tasks-other"},
                  {"logStreamName", "dms-task-C"}})["events"]
                .size(),
            1u);
}

}  // namespace
}  // namespace dagster_dms::server
