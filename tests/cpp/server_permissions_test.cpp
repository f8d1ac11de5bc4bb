// dms-local's IAM-like permissions: action patterns, the credentials file's "actions", and the
// AccessDeniedException a denied call answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/front/api_error.hpp"
#include "server/front/permissions.hpp"
#include "server/front/sigv4_verifier.hpp"

namespace dagster_dms::server {
namespace {

TEST(ActionPattern, MatchesExactNamesWithoutRegardToCase) {
  EXPECT_TRUE(
      action_pattern_matches("dms:DescribeReplicationTasks", "dms:DescribeReplicationTasks"));
  EXPECT_TRUE(
      action_pattern_matches("DMS:describereplicationtasks", "dms:DescribeReplicationTasks"));
  EXPECT_FALSE(
      action_pattern_matches("dms:DescribeReplicationTask", "dms:DescribeReplicationTasks"));
  EXPECT_FALSE(
      action_pattern_matches("dms:DescribeReplicationTasks", "dms:DescribeReplicationTask"));
  EXPECT_FALSE(action_pattern_matches("logs:GetLogEvents", "dms:GetLogEvents"));
}

TEST(ActionPattern, HonoursIamWildcards) {
  EXPECT_TRUE(action_pattern_matches("*", "cloudwatch:GetMetricData"));
  EXPECT_TRUE(action_pattern_matches("dms:*", "dms:StartReplicationTask"));
  EXPECT_FALSE(action_pattern_matches("dms:*", "logs:GetLogEvents"));
  EXPECT_TRUE(action_pattern_matches("dms:Describe*", "dms:DescribeEndpoints"));
  EXPECT_FALSE(action_pattern_matches("dms:Describe*", "dms:StartReplicationTask"));
  EXPECT_TRUE(action_pattern_matches("dms:*Task", "dms:StopReplicationTask"));
  EXPECT_FALSE(action_pattern_matches("dms:*Task", "dms:DescribeReplicationTasks"));
  EXPECT_TRUE(action_pattern_matches("logs:Get?ogEvents", "logs:GetLogEvents"));
  EXPECT_FALSE(action_pattern_matches("logs:Get?ogEvents", "logs:GetogEvents"));
  EXPECT_TRUE(action_pattern_matches("*:Get*", "cloudwatch:GetMetricStatistics"));
  EXPECT_TRUE(action_pattern_matches("dms:D*s*s", "dms:DescribeReplicationTasks"));
}

TEST(ActionPattern, StaysLinearOnPathologicalPatterns) {
  // A naive recursive glob takes exponential time here.
  const std::string pattern = "dms:" + std::string(40, '*') + "x";
  EXPECT_FALSE(action_pattern_matches(pattern, "dms:" + std::string(4000, 'a')));
}

TEST(ActionPolicy, AllowsOnlyWhatItLists) {
  const ActionPolicy policy({"dms:Describe*", "logs:GetLogEvents"});
  EXPECT_TRUE(policy.allows("dms:DescribeReplicationTasks"));
  EXPECT_TRUE(policy.allows("logs:GetLogEvents"));
  EXPECT_FALSE(policy.allows("logs:DescribeLogStreams"));
  EXPECT_FALSE(policy.allows("cloudwatch:GetMetricData"));
  EXPECT_FALSE(ActionPolicy(std::vector<std::string>{}).allows("dms:DescribeReplicationTasks"));
  EXPECT_TRUE(ActionPolicy::allow_all().allows("cloudwatch:GetMetricData"));
}

TEST(ActionPolicy, RefusesPatternsThatAreNoAction) {
  for (const char* bad : {"DescribeReplicationTasks", "dms:", ":Describe", "dms:Describe Tasks", "",
                          "dms:Describe;*"}) {
    EXPECT_THROW(ActionPolicy({bad}), std::invalid_argument) << bad;
  }
}

TEST(IamAction, UsesTheIamPrefixOfEachService) {
  EXPECT_EQ(iam_action("dms", "StartReplicationTask"), "dms:StartReplicationTask");
  EXPECT_EQ(iam_action("monitoring", "GetMetricData"), "cloudwatch:GetMetricData");
  EXPECT_EQ(iam_action("logs", "GetLogEvents"), "logs:GetLogEvents");
}

TEST(RequirePermission, DeniesWithAwsWording) {
  const ActionPolicy policy({"dms:DescribeReplicationTasks"});
  const Principal principal{"123456789012", "reader", policy};
  EXPECT_NO_THROW(require_permission(principal, "dms", "us-east-1", "DescribeReplicationTasks",
                                     nlohmann::json::object()));
  const std::string task = "arn:aws:dms:us-east-1:123456789012:task:ABC";
  try {
    require_permission(principal, "dms", "us-east-1", "StartReplicationTask",
                       {{"ReplicationTaskArn", task}});
    FAIL() << "StartReplicationTask was allowed";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), "AccessDeniedException");
    EXPECT_EQ(error.http_status(), 400);
    EXPECT_EQ(std::string(error.what()),
              "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: "
              "dms:StartReplicationTask on resource: " +
                  task +
                  " because no identity-based policy allows the dms:StartReplicationTask action");
  }
  try {
    require_permission(principal, "monitoring", "us-east-1", "GetMetricData",
                       nlohmann::json::object());
    FAIL() << "GetMetricData was allowed";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.http_status(), 403);
    EXPECT_NE(std::string(error.what()).find("cloudwatch:GetMetricData on resource: *"),
              std::string::npos);
  }
}

TEST(IamResource, NamesLogStreamsAndFallsBackToStar) {
  EXPECT_EQ(iam_resource("logs", "eu-west-1", "123456789012",
                         {{"logGroupName", "dms-tasks-inst"}, {"logStreamName", "dms-task-T"}}),
            "arn:aws:logs:eu-west-1:123456789012:log-group:dms-tasks-inst:log-stream:dms-task-T");
  EXPECT_EQ(iam_resource("dms", "eu-west-1", "123456789012", nlohmann::json::object()), "*");
  EXPECT_EQ(iam_resource("dms", "eu-west-1", "123456789012", {{"EndpointArn", 7}}), "*");
  EXPECT_EQ(iam_resource("monitoring", "eu-west-1", "123456789012", {{"Namespace", "AWS/DMS"}}),
            "*");
}

class CredentialsFile : public ::testing::Test {
 protected:
  std::filesystem::path path_ =
      std::filesystem::temp_directory_path() /
      ("dms-local-permissions-" +
       std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json");
  void write(const std::string& text) { std::ofstream(path_) << text; }
  void TearDown() override { std::filesystem::remove(path_); }
};

TEST_F(CredentialsFile, EntriesWithoutActionsMayCallEverything) {
  write(R"([{"access_key_id": "AKOLD", "secret_access_key": "s"}])");
  const auto pairs = load_key_pairs(path_);
  ASSERT_EQ(pairs.size(), 1U);
  EXPECT_EQ(pairs[0].user_name, "AKOLD");
  EXPECT_TRUE(pairs[0].actions->allows("cloudwatch:GetMetricData"));
  EXPECT_TRUE(default_key_pair().actions->allows("dms:DeleteReplicationTask"));
}

TEST_F(CredentialsFile, ReadsUserAndActions) {
  write(R"([{"access_key_id": "AKRO", "secret_access_key": "s", "user_name": "reader",
             "actions": ["dms:Describe*", "logs:GetLogEvents"]}])");
  const auto pairs = load_key_pairs(path_);
  ASSERT_EQ(pairs.size(), 1U);
  EXPECT_EQ(pairs[0].user_name, "reader");
  EXPECT_TRUE(pairs[0].actions->allows("dms:DescribeEndpoints"));
  EXPECT_FALSE(pairs[0].actions->allows("dms:StartReplicationTask"));
}

TEST_F(CredentialsFile, RefusesBadActionsNamingTheEntry) {
  for (const char* actions : {R"("dms:*")", R"([1])", R"(["StartReplicationTask"])"}) {
    write(std::string(R"([{"access_key_id": "A", "secret_access_key": "topsecret", "actions": )") +
          actions + "}]");
    try {
      load_key_pairs(path_);
      FAIL() << actions;
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("entry 0"), std::string::npos) << message;
      EXPECT_NE(message.find("actions"), std::string::npos) << message;
      EXPECT_EQ(message.find("topsecret"), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace dagster_dms::server
