#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "aws/errors.hpp"
#include "dms_test_support.hpp"
#include "orchestrate/runner.hpp"

namespace dagster_dms::orchestrate {
namespace {

using nlohmann::json;
using testing::ClientHarness;

constexpr const char* kArn = "arn:aws:dms:us-east-1:000000000000:task:ORDERS";

json task(const std::string& status, const std::string& stop_reason = "",
          const std::string& type = "full-load", bool ran_before = false) {
  json t{{"ReplicationTaskIdentifier", "orders"},
         {"ReplicationTaskArn", kArn},
         {"MigrationType", type},
         {"Status", status}};
  if (!stop_reason.empty()) t["StopReason"] = stop_reason;
  if (ran_before) t["ReplicationTaskStartDate"] = 1700000000;
  return t;
}

json listing(const json& t) {
  return json{{"ReplicationTasks", json::array({t})}};
}

RunOptions fast_options() {
  RunOptions options;
  options.poll_interval_min = std::chrono::milliseconds(1000);
  options.poll_interval_max = std::chrono::milliseconds(8000);
  options.start_timeout = std::chrono::seconds(60);
  return options;
}

std::vector<std::string> operations(const ClientHarness& harness) {
  std::vector<std::string> out;
  for (const auto& call : harness.calls()) out.push_back(call.operation);
  return out;
}

class TaskRunnerTest : public ::testing::Test {
 protected:
  ClientHarness harness;
  dms::DmsClient client{harness.session};
  TaskRunner runner{client, *harness.clock};
};

TEST_F(TaskRunnerTest, FirstRunSendsStartReplicationAndSucceedsOnFullLoadFinished) {
  harness.reply(listing(task("ready")));
  harness.reply(json{{"ReplicationTask", task("starting")}});
  harness.reply(listing(task("running")));
  harness.reply(listing(task("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED")));
  std::vector<Progress> seen;
  const RunResult result =
      runner.run("orders", fast_options(), [&](const Progress& p) { seen.push_back(p); });
  EXPECT_EQ(result.outcome, RunOutcome::kSucceeded) << result.message;
  EXPECT_EQ(result.phase, TaskPhase::kSucceeded);
  EXPECT_TRUE(result.started);
  EXPECT_EQ(result.start_type_sent, "start-replication");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[1].operation, "StartReplicationTask");
  EXPECT_EQ(calls[1].body["StartReplicationTaskType"], "start-replication");
  EXPECT_EQ(calls[1].body["ReplicationTaskArn"], kArn);
  EXPECT_EQ(calls[0].body["Filters"][0]["Name"], "replication-task-id");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen.back().status, "stopped");
}

TEST_F(TaskRunnerTest, AFullLoadThatEndsBeforeRunningIsSeenIsASuccess) {
  harness.reply(listing(task("ready")));
  harness.reply(json{{"ReplicationTask", task("starting")}});
  harness.reply(listing(task("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED")));
  const RunResult result = runner.run(kArn, fast_options());
  EXPECT_EQ(result.outcome, RunOutcome::kSucceeded) << result.message;
  EXPECT_EQ(harness.calls()[0].body["Filters"][0]["Name"], "replication-task-arn");
}

TEST_F(TaskRunnerTest, FatalErrorIsAFailureWithTheReason) {
  harness.reply(listing(task("ready")));
  harness.reply(json{{"ReplicationTask", task("starting")}});
  json failed = task("stopped", "Stop Reason FATAL_ERROR");
  failed["LastFailureMessage"] = "Last Error Table public.orders does not exist";
  harness.reply(listing(failed));
  const RunResult result = runner.run("orders", fast_options());
  EXPECT_EQ(result.outcome, RunOutcome::kFailed);
  EXPECT_NE(result.message.find("FATAL_ERROR"), std::string::npos);
  EXPECT_NE(result.message.find("public.orders does not exist"), std::string::npos);
}

TEST_F(TaskRunnerTest, StartReplicationOnATaskThatRanBeforeBecomesReloadTarget) {
  harness.reply(listing(task("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED", "full-load", true)));
  harness.reply(json{{"ReplicationTask", task("starting", "", "full-load", true)}});
  harness.reply(listing(task("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED", "full-load", true)));
  const RunResult result = runner.run("orders", fast_options());
  EXPECT_EQ(result.start_type_sent, "reload-target");
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_NE(result.notes[0].find("reload-target"), std::string::npos);
  EXPECT_EQ(harness.calls()[1].body["StartReplicationTaskType"], "reload-target");
}

TEST_F(TaskRunnerTest, ResumeOnATaskThatNeverRanIsRefusedWithAReason) {
  std::string reason;
  dms::ReplicationTask fresh;
  fresh.status = "ready";
  fresh.replication_task_identifier = "orders";
  try {
    effective_start_type(fresh, "resume-processing", &reason);
    FAIL() << "resume-processing on a task that never ran was accepted";
  } catch (const aws::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("orders has never run"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("start-replication"), std::string::npos);
  }
  EXPECT_EQ(effective_start_type(fresh, "reload-target", &reason), "start-replication");
  EXPECT_FALSE(reason.empty());
  dms::ReplicationTask cdc;
  cdc.status = "stopped";
  cdc.migration_type = "cdc";
  EXPECT_EQ(effective_start_type(cdc, "start-replication", &reason), "resume-processing");
  EXPECT_EQ(effective_start_type(cdc, "reload-target", &reason), "reload-target");
}

TEST_F(TaskRunnerTest, ARunningCdcTaskIsWaitedForNotStarted) {
  json running = task("running", "", "full-load-and-cdc", true);
  running["ReplicationTaskStats"] = {{"FullLoadProgressPercent", 100},
                                     {"TablesLoading", 0},
                                     {"TablesQueued", 0},
                                     {"TablesLoaded", 4}};
  harness.reply(listing(running));
  harness.reply(listing(running));
  const RunResult result = runner.run("orders", fast_options());
  EXPECT_EQ(result.outcome, RunOutcome::kSucceeded);
  EXPECT_EQ(result.phase, TaskPhase::kReplicating);
  EXPECT_FALSE(result.started);
  EXPECT_EQ(operations(harness),
            (std::vector<std::string>{"DescribeReplicationTasks", "DescribeReplicationTasks"}));
}

TEST_F(TaskRunnerTest, StuckInStartingTimesOut) {
  harness.reply(listing(task("ready")));
  harness.reply(json{{"ReplicationTask", task("starting")}});
  harness.transport->set_handler([](const aws::HttpRequest&) {
    return aws::HttpResponse{200, {}, listing(task("starting")).dump()};
  });
  RunOptions options = fast_options();
  options.start_timeout = std::chrono::seconds(30);
  const RunResult result = runner.run("orders", options);
  EXPECT_EQ(result.outcome, RunOutcome::kTimedOut);
  EXPECT_NE(result.message.find("start timeout"), std::string::npos);
}

TEST_F(TaskRunnerTest, PollingBacksOffWhileNothingChanges) {
  harness.reply(listing(task("ready")));
  harness.reply(json{{"ReplicationTask", task("starting")}});
  int polls = 0;
  harness.transport->set_handler([&](const aws::HttpRequest&) {
    ++polls;
    return aws::HttpResponse{
        200,
        {},
        listing(polls < 8 ? task("running")
                          : task("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED"))
            .dump()};
  });
  const RunResult result = runner.run("orders", fast_options());
  EXPECT_EQ(result.outcome, RunOutcome::kSucceeded);
  // Seven gaps between eight polls: at a fixed 1 s they would add up to 7 s; growing by half each
  // time from 1 s, capped at 8 s, they add up to 28.78 s.
  EXPECT_EQ(result.waited,
            std::chrono::milliseconds(1000 + 1500 + 2250 + 3375 + 5062 + 7593 + 8000));
}

TEST_F(TaskRunnerTest, CancellationStopsTheTaskThisRunStarted) {
  harness.reply(listing(task("ready")));
  harness.reply(json{{"ReplicationTask", task("starting")}});
  harness.reply(listing(task("running")));  // first poll
  harness.reply(listing(task("running")));  // stop(): describe
  harness.reply(json{{"ReplicationTask", task("stopping")}});
  harness.reply(listing(task("stopped", "Stop Reason NORMAL")));
  int checks = 0;
  const RunResult result = runner.run("orders", fast_options(), {}, [&] { return ++checks > 1; });
  EXPECT_EQ(result.outcome, RunOutcome::kCancelled);
  EXPECT_NE(result.message.find("stopped"), std::string::npos);
  const auto ops = operations(harness);
  EXPECT_NE(std::find(ops.begin(), ops.end(), "StopReplicationTask"), ops.end());
}

TEST_F(TaskRunnerTest, AnUnknownTaskNamesItAndTheRegion) {
  harness.fail(400, "ResourceNotFoundFault", "No Tasks found matching provided filters");
  try {
    runner.run("nope", fast_options());
    FAIL() << "expected ServiceError";
  } catch (const aws::ServiceError& e) {
    EXPECT_EQ(e.code(), "ResourceNotFoundFault");
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("us-east-1"), std::string::npos);
  }
}

// ---- serverless replications: the same rules through Runner<dms::Replication> ----------------

constexpr const char* kConfigArn = "arn:aws:dms:us-east-1:000000000000:replication-config:ITEMS";

json replication(const std::string& status, const std::string& stop_reason = "",
                 const std::string& type = "full-load", bool ran_before = false) {
  json r{{"ReplicationConfigIdentifier", "items"},
         {"ReplicationConfigArn", kConfigArn},
         {"ReplicationType", type},
         {"Status", status}};
  if (!stop_reason.empty()) r["StopReason"] = stop_reason;
  if (ran_before) r["ReplicationStats"] = json{{"StartDate", 1700000000}};
  return r;
}

json replications(const json& r) {
  return json{{"Replications", json::array({r})}};
}

class ReplicationRunnerTest : public ::testing::Test {
 protected:
  ClientHarness harness;
  dms::DmsClient client{harness.session};
  ReplicationRunner runner{client, *harness.clock};
};

TEST_F(ReplicationRunnerTest, AStopAtTheCdcStopPositionIsASuccess) {
  // Every stop reason that means "the configured work is done" counts, not only a finished full
  // load: a CDC replication started with CdcStopPosition ends STOPPED_AT_SERVER_TIME.
  harness.reply(replications(replication("running", "", "full-load-and-cdc", true)));
  harness.reply(replications(
      replication("stopped", "Stop Reason STOPPED_AT_SERVER_TIME", "full-load-and-cdc", true)));
  RunOptions options = fast_options();
  options.goal = WaitGoal::kFullLoadComplete;
  const ReplicationRunResult result = runner.run(kConfigArn, options);
  EXPECT_EQ(result.outcome, RunOutcome::kSucceeded) << result.message;
  EXPECT_EQ(result.phase, TaskPhase::kSucceeded);
  EXPECT_FALSE(result.started);
  EXPECT_EQ(operations(harness),
            (std::vector<std::string>{"DescribeReplications", "DescribeReplications"}));
  EXPECT_EQ(harness.calls()[0].body["Filters"][0]["Name"], "replication-config-arn");
}

TEST_F(ReplicationRunnerTest, ProvisioningStepsAreAStartInProgressAndCreatedNeverRan) {
  harness.reply(replications(replication("created")));
  harness.reply(json{{"Replication", replication("initializing")}});
  harness.reply(replications(replication("preparing_metadata_resources")));
  harness.reply(replications(replication("running")));
  harness.reply(replications(replication("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED")));
  const ReplicationRunResult result = runner.run("items", fast_options());
  EXPECT_EQ(result.outcome, RunOutcome::kSucceeded) << result.message;
  EXPECT_TRUE(result.started);
  EXPECT_EQ(result.start_type_sent, "start-replication");
  const auto calls = harness.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0].body["Filters"][0]["Name"], "replication-config-id");
  EXPECT_EQ(calls[1].operation, "StartReplication");
  EXPECT_EQ(calls[1].body["ReplicationConfigArn"], kConfigArn);
  EXPECT_EQ(calls[1].body["StartReplicationType"], "start-replication");
}

TEST_F(ReplicationRunnerTest, AFailedProvisioningIsAFailureWithTheMessages) {
  harness.reply(replications(replication("created")));
  harness.reply(json{{"Replication", replication("initializing")}});
  json failed = replication("failed");
  failed["FailureMessages"] = json::array({"Source endpoint unreachable"});
  harness.reply(replications(failed));
  const ReplicationRunResult result = runner.run("items", fast_options());
  EXPECT_EQ(result.outcome, RunOutcome::kFailed);
  EXPECT_NE(result.message.find("Source endpoint unreachable"), std::string::npos)
      << result.message;
}

TEST_F(ReplicationRunnerTest, ARunBeforeDecidesTheStartTypeAsForTasks) {
  harness.reply(replications(replication("stopped", "Stop Reason NORMAL", "cdc", true)));
  harness.reply(json{{"Replication", replication("running", "", "cdc", true)}});
  harness.reply(replications(replication("running", "", "cdc", true)));
  const ReplicationRunResult result = runner.run("items", fast_options());
  EXPECT_EQ(result.outcome, RunOutcome::kSucceeded) << result.message;
  EXPECT_EQ(result.start_type_sent, "resume-processing");
  EXPECT_EQ(harness.calls()[1].body["StartReplicationType"], "resume-processing");

  dms::Replication fresh;
  fresh.status = "created";
  fresh.replication_config_identifier = "items";
  EXPECT_THROW(effective_start_type(fresh, "resume-processing", nullptr), aws::ConfigError);
}

}  // namespace
}  // namespace dagster_dms::orchestrate
