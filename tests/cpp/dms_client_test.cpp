// DmsClient against a scripted transport: pagination, DMS's "nothing matched" fault, tag batching
// and its fallback, the start/stop decision after an ambiguous failure, and the dispatcher.

#include "dms/dms_client.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "aws/errors.hpp"
#include "dms/dispatch.hpp"
#include "dms_test_support.hpp"

namespace dagster_dms::dms {
namespace {

using nlohmann::json;
using testing::ClientHarness;

const std::string kTaskArn = "arn:aws:dms:us-east-1:123456789012:task:TASK1";

json task_json(const std::string& arn, const std::string& status) {
  return json{{"ReplicationTaskArn", arn},
              {"ReplicationTaskIdentifier", "task-" + arn.substr(arn.size() - 1)},
              {"Status", status}};
}

// The message of the invalid_argument `call` throws ("" when it throws none).
template <class Call>
std::string rejection(Call&& call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected invalid_argument";
  return "";
}

class DmsClientTest : public ::testing::Test {
 protected:
  ClientHarness harness;
  DmsClient client{harness.session};
};

TEST_F(DmsClientTest, SinglePageKeepsMarker) {
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn, "ready")}}, {"Marker", "m1"}});
  DescribeReplicationTasksMessage input;
  input.max_records = 20;
  const auto page = client.describe_replication_tasks(input);
  EXPECT_EQ(page.marker, "m1");
  ASSERT_EQ(page.replication_tasks->size(), 1U);
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].operation, "DescribeReplicationTasks");
  EXPECT_EQ(calls[0].body, json::parse(R"({"MaxRecords": 20})"));
}

TEST_F(DmsClientTest, AllFollowsMarker) {
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn + "1", "ready")}}, {"Marker", "m1"}});
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn + "2", "ready")}}, {"Marker", "m2"}});
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn + "3", "ready")}}});
  int pages = 0;
  const auto tasks = client.describe_replication_tasks_all(
      {}, [&](const DescribeReplicationTasksResponse&) { ++pages; });
  ASSERT_EQ(tasks.size(), 3U);
  EXPECT_EQ(tasks[2].replication_task_arn, kTaskArn + "3");
  EXPECT_EQ(pages, 3);
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 3U);
  EXPECT_FALSE(calls[0].body.contains("Marker"));
  EXPECT_EQ(calls[1].body.at("Marker"), "m1");
  EXPECT_EQ(calls[2].body.at("Marker"), "m2");
}

TEST_F(DmsClientTest, RepeatedMarkerIsAProtocolError) {
  harness.reply({{"Endpoints", json::array()}, {"Marker", "same"}});
  harness.reply({{"Endpoints", json::array()}, {"Marker", "same"}});
  EXPECT_THROW(client.describe_endpoints_all(), aws::ProtocolError);
}

TEST_F(DmsClientTest, NoMatchFaultIsAnEmptyListing) {
  harness.fail(400, "ResourceNotFoundFault", "No Tasks found matching provided filters");
  harness.fail(400, "ResourceNotFoundFault", "No Endpoints found matching provided filters");
  DescribeReplicationTasksMessage input;
  input.filters = {Filter{"replication-task-id", {"nope"}, json::object()}};
  EXPECT_TRUE(client.describe_replication_tasks_all(input).empty());
  EXPECT_TRUE(client.describe_endpoints_all().empty());
}

TEST_F(DmsClientTest, NotFoundStaysAnErrorForOneResource) {
  // The single-page call reports the fault as is...
  harness.fail(400, "ResourceNotFoundFault", "No Tasks found matching provided filters");
  EXPECT_THROW(client.describe_replication_tasks({}), aws::ServiceError);
  // ...and so does the listing of one named task's tables.
  harness.fail(400, "ResourceNotFoundFault", "Replication Task not found");
  DescribeTableStatisticsMessage input;
  input.replication_task_arn = kTaskArn;
  try {
    client.describe_table_statistics_all(input);
    FAIL() << "expected ResourceNotFoundFault";
  } catch (const aws::ServiceError& e) {
    EXPECT_EQ(e.code(), "ResourceNotFoundFault");
  }
}

TEST_F(DmsClientTest, TagsAreAskedInBatches) {
  std::vector<std::string> arns;
  for (std::size_t i = 0; i < DmsClient::kTagBatchSize + 5; ++i) {
    arns.push_back("arn:aws:dms:us-east-1:1:task:T" + std::to_string(i));
  }
  harness.reply({{"TagList",
                  {{{"Key", "team"}, {"Value", "a"}, {"ResourceArn", arns[0]}},
                   {{"Key", "env"}, {"Value", "dev"}, {"ResourceArn", arns[3]}}}}});
  harness.reply({{"TagList", {{{"Key", "team"}, {"Value", "b"}, {"ResourceArn", arns.back()}}}}});
  const auto tags = client.tags_for_resources(arns);
  ASSERT_EQ(tags.size(), arns.size());
  EXPECT_EQ(tags.at(arns[0]).at(0).value, "a");
  EXPECT_EQ(tags.at(arns[3]).at(0).key, "env");
  EXPECT_TRUE(tags.at(arns[1]).empty());
  EXPECT_EQ(tags.at(arns.back()).at(0).value, "b");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].operation, "ListTagsForResource");
  EXPECT_EQ(calls[0].body.at("ResourceArnList").size(), DmsClient::kTagBatchSize);
  EXPECT_EQ(calls[1].body.at("ResourceArnList").size(), 5U);
  EXPECT_FALSE(calls[0].body.contains("ResourceArn"));
}

TEST_F(DmsClientTest, TagsFallBackToOneArnPerCall) {
  const std::vector<std::string> arns = {"arn:a", "arn:b", "arn:c"};
  harness.fail(400, "InvalidParameterValueException", "Unknown parameter ResourceArnList");
  harness.reply({{"TagList", {{{"Key", "k"}, {"Value", "1"}}}}});
  harness.reply({{"TagList", json::array()}});
  harness.reply({{"TagList", {{{"Key", "k"}, {"Value", "3"}}}}});
  const auto tags = client.tags_for_resources(arns);
  EXPECT_EQ(tags.at("arn:a").at(0).value, "1");
  EXPECT_EQ(tags.at("arn:a").at(0).resource_arn, "arn:a");
  EXPECT_TRUE(tags.at("arn:b").empty());
  EXPECT_EQ(tags.at("arn:c").at(0).value, "3");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 4U);
  EXPECT_TRUE(calls[0].body.contains("ResourceArnList"));
  EXPECT_EQ(calls[1].body, json::parse(R"({"ResourceArn": "arn:a"})"));
  EXPECT_EQ(calls[3].body, json::parse(R"({"ResourceArn": "arn:c"})"));

  // Remembered: the next lookup goes per ARN straight away.
  harness.reply({{"TagList", json::array()}});
  harness.reply({{"TagList", json::array()}});
  client.tags_for_resources({"arn:x", "arn:y"});
  const auto later = harness.calls();
  ASSERT_EQ(later.size(), 6U);
  EXPECT_EQ(later[4].body, json::parse(R"({"ResourceArn": "arn:x"})"));
}

TEST_F(DmsClientTest, TagsWithoutFallbackCodeStayErrors) {
  harness.fail(400, "AccessDeniedFault", "not authorized to perform dms:ListTagsForResource");
  EXPECT_THROW(client.tags_for_resources({"arn:a", "arn:b"}), aws::ServiceError);
}

StartReplicationTaskMessage start_input() {
  StartReplicationTaskMessage input;
  input.replication_task_arn = kTaskArn;
  input.start_replication_task_type = "start-replication";
  return input;
}

TEST_F(DmsClientTest, StartAfterTimeoutReadsStateAndKeepsTheStart) {
  harness.fail(aws::TransportError(aws::TransportError::Kind::kTimeout, "read timed out"));
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn, "starting")}}});
  const auto response = client.start_replication_task(start_input());
  EXPECT_EQ(response.replication_task->status, "starting");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 2U);  // no second start
  EXPECT_EQ(calls[0].operation, "StartReplicationTask");
  EXPECT_EQ(calls[1].operation, "DescribeReplicationTasks");
  EXPECT_EQ(calls[1].body.at("Filters").at(0),
            json::parse(R"({"Name": "replication-task-arn", "Values": [")" + kTaskArn + R"("]})"));
}

TEST_F(DmsClientTest, StartAfterTimeoutRetriesOnceWhenNothingHappened) {
  harness.fail(aws::TransportError(aws::TransportError::Kind::kConnectionReset, "reset"));
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn, "ready")}}});
  harness.reply({{"ReplicationTask", task_json(kTaskArn, "starting")}});
  const auto response = client.start_replication_task(start_input());
  EXPECT_EQ(response.replication_task->status, "starting");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 3U);
  EXPECT_EQ(calls[2].operation, "StartReplicationTask");
  EXPECT_EQ(calls[2].body, calls[0].body);
}

TEST_F(DmsClientTest, StartThatAlreadyFinishedIsRecognisedByItsStartDate) {
  harness.fail(503, "ServiceUnavailable", "try later");
  json task = task_json(kTaskArn, "stopped");
  const double now = std::chrono::duration<double>(harness.clock->now().time_since_epoch()).count();
  task["StopReason"] = "Stop Reason FULL_LOAD_ONLY_FINISHED";
  task["ReplicationTaskStats"] = {{"StartDate", now + 1}, {"FullLoadProgressPercent", 100}};
  harness.reply({{"ReplicationTasks", {task}}});
  const auto response = client.start_replication_task(start_input());
  EXPECT_EQ(response.replication_task->stop_reason, "Stop Reason FULL_LOAD_ONLY_FINISHED");
  EXPECT_EQ(harness.calls().size(), 2U);
}

TEST_F(DmsClientTest, StartAfterAnOldRunIsRetried) {
  harness.fail(500, "InternalFailure", "oops");
  json task = task_json(kTaskArn, "stopped");
  const double now = std::chrono::duration<double>(harness.clock->now().time_since_epoch()).count();
  task["ReplicationTaskStats"] = {{"StartDate", now - 3600}};
  harness.reply({{"ReplicationTasks", {task}}});
  harness.reply({{"ReplicationTask", task_json(kTaskArn, "starting")}});
  EXPECT_EQ(client.start_replication_task(start_input()).replication_task->status, "starting");
  EXPECT_EQ(harness.calls().size(), 3U);
}

TEST_F(DmsClientTest, StartClientErrorsAreNotRetried) {
  harness.fail(400, "InvalidResourceStateFault", "task is running");
  EXPECT_THROW(client.start_replication_task(start_input()), aws::ServiceError);
  EXPECT_EQ(harness.calls().size(), 1U);
}

TEST_F(DmsClientTest, StartKeepsTheOriginalFailureWhenStateIsUnreadable) {
  harness.fail(aws::TransportError(aws::TransportError::Kind::kTimeout, "start timed out"));
  harness.fail(aws::TransportError(aws::TransportError::Kind::kConnect, "refused"));
  try {
    client.start_replication_task(start_input());
    FAIL() << "expected the timeout";
  } catch (const aws::TransportError& e) {
    EXPECT_EQ(e.kind(), aws::TransportError::Kind::kTimeout);
  }
}

TEST_F(DmsClientTest, StopAfterTimeoutSeesStopping) {
  harness.fail(aws::TransportError(aws::TransportError::Kind::kTimeout, "timed out"));
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn, "stopping")}}});
  StopReplicationTaskMessage input;
  input.replication_task_arn = kTaskArn;
  EXPECT_EQ(client.stop_replication_task(input).replication_task->status, "stopping");
  EXPECT_EQ(harness.calls().size(), 2U);
}

TEST_F(DmsClientTest, StopReplicationAfterTimeoutRetriesWhenStillRunning) {
  const std::string config = "arn:aws:dms:us-east-1:1:replication-config:C";
  harness.fail(aws::TransportError(aws::TransportError::Kind::kTimeout, "timed out"));
  harness.reply({{"Replications", {{{"ReplicationConfigArn", config}, {"Status", "running"}}}}});
  harness.reply({{"Replication", {{"ReplicationConfigArn", config}, {"Status", "stopping"}}}});
  StopReplicationMessage input;
  input.replication_config_arn = config;
  EXPECT_EQ(client.stop_replication(input).replication->status, "stopping");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 3U);
  EXPECT_EQ(calls[1].operation, "DescribeReplications");
  EXPECT_EQ(calls[2].operation, "StopReplication");
}

TEST_F(DmsClientTest, DispatcherConvertsBothWays) {
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn, "running")}}, {"Extra", 1}});
  const json out = invoke(client, "DescribeReplicationTasks",
                          json::parse(R"({"Filters": [{"Name": "replication-task-id",
                                                            "Values": ["t"]}]})"));
  EXPECT_EQ(out.at("ReplicationTasks").at(0).at("Status"), "running");
  EXPECT_EQ(out.at("Extra"), 1);
  EXPECT_EQ(harness.calls().at(0).body.at("Filters").at(0).at("Name"), "replication-task-id");
}

TEST_F(DmsClientTest, DispatcherRejectsBadInputNamingTheMember) {
  const std::string message = rejection([&] {
    invoke(client, "DescribeReplicationTasks", json::parse(R"({"MaxRecords": "many"})"));
  });
  EXPECT_NE(message.find("DescribeReplicationTasks"), std::string::npos) << message;
  EXPECT_NE(message.find("MaxRecords"), std::string::npos) << message;
  EXPECT_THROW(invoke(client, "StartReplicationTask", json::object()), std::invalid_argument);
  EXPECT_EQ(harness.calls().size(), 0U);
}

TEST_F(DmsClientTest, DispatcherListsValidOperations) {
  const std::string message =
      rejection([&] { invoke(client, "DescribeEverything", json::object()); });
  EXPECT_NE(message.find("unknown DMS operation 'DescribeEverything'"), std::string::npos);
  EXPECT_NE(message.find("DescribeReplicationTasks"), std::string::npos);
  EXPECT_NE(message.find("DeleteReplicationConfig"), std::string::npos);
  EXPECT_EQ(operation_names<DmsClient>().size(), std::tuple_size_v<op::All>);
  EXPECT_EQ(operation_names<DmsClient>().front(), "DescribeReplicationTasks");
}

// Dispatch by name takes the same call path as the typed method: a start whose answer was lost
// is judged from the task's state, not sent twice.
TEST_F(DmsClientTest, DispatchedStartKeepsTheStateCheck) {
  harness.fail(aws::TransportError(aws::TransportError::Kind::kTimeout, "read timed out"));
  harness.reply({{"ReplicationTasks", {task_json(kTaskArn, "running")}}});
  const json out =
      invoke(client, "StartReplicationTask",
             {{"ReplicationTaskArn", kTaskArn}, {"StartReplicationTaskType", "start-replication"}});
  EXPECT_EQ(out.at("ReplicationTask").at("Status"), "running");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[1].operation, "DescribeReplicationTasks");
}

TEST_F(DmsClientTest, ListingByNameFollowsEveryPage) {
  harness.reply({{"Endpoints", {{{"EndpointIdentifier", "a"}}}}, {"Marker", "m1"}});
  harness.reply({{"Endpoints", {{{"EndpointIdentifier", "b"}}}}});
  const json items = list_all(client, "DescribeEndpoints", json::object());
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[1].at("EndpointIdentifier"), "b");
  EXPECT_EQ(harness.calls().at(1).body.at("Marker"), "m1");
}

TEST_F(DmsClientTest, ListingByNameTreatsNoMatchAsEmpty) {
  harness.fail(400, "ResourceNotFoundFault", "No Endpoints found matching provided filters");
  EXPECT_EQ(list_all(client, "DescribeEndpoints", json::object()), json::array());
}

TEST_F(DmsClientTest, ListingByNameNamesTheListings) {
  const std::string message =
      rejection([&] { list_all(client, "StartReplicationTask", json::object()); });
  EXPECT_NE(message.find("unknown DMS listing 'StartReplicationTask'"), std::string::npos);
  EXPECT_NE(message.find("DescribeReplications"), std::string::npos) << message;
  EXPECT_EQ(message.find("TestConnection"), std::string::npos) << message;
  EXPECT_EQ(harness.calls().size(), 0U);
}

}  // namespace
}  // namespace dagster_dms::dms
