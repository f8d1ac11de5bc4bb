// DmsService end to end without HTTP: quotas, ReloadTables and serverless lifecycles, with a
// fake executor that the tests drive.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "aws/clock.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/front/api_error.hpp"
#include "server/store/store.hpp"

namespace dagster_dms::server {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// Records runs; a test ends them through the callbacks it kept.
class FakeExecutor final : public TaskExecutor {
 public:
  void start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) override {
    const std::lock_guard lock(mutex_);
    runs_[run.task.replication_task_arn.value_or("")] = {run, std::move(callbacks)};
  }
  void stop(const std::string& task_arn) override {
    auto callbacks = take(task_arn);
    if (callbacks) callbacks->on_stopped();
  }
  std::vector<std::string> reload(const std::string& task_arn,
                                  const std::vector<dms::TableToReload>& tables) override {
    const std::lock_guard lock(mutex_);
    reloads_[task_arn] += tables.size();
    return std::vector<std::string>(tables.size(), refuse_reloads_ ? "busy" : "");
  }
  std::shared_ptr<TaskCallbacks> take(const std::string& arn) {
    const std::lock_guard lock(mutex_);
    const auto it = runs_.find(arn);
    if (it == runs_.end()) return nullptr;
    auto callbacks = it->second.second;
    runs_.erase(it);
    return callbacks;
  }
  std::optional<TaskRun> run_of(const std::string& arn) {
    const std::lock_guard lock(mutex_);
    const auto it = runs_.find(arn);
    if (it == runs_.end()) return std::nullopt;
    return it->second.first;
  }
  std::size_t reloads(const std::string& arn) {
    const std::lock_guard lock(mutex_);
    return reloads_[arn];
  }
  bool refuse_reloads_ = false;

 private:
  std::mutex mutex_;
  std::map<std::string, std::pair<TaskRun, std::shared_ptr<TaskCallbacks>>> runs_;
  std::map<std::string, std::size_t> reloads_;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("dms-ops-service-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())),
        store_((std::filesystem::remove_all(dir_), dir_)),
        service_(store_, executor_, clock_, options()) {}
  ~ServiceTest() override {
    service_.shutdown();
    std::filesystem::remove_all(dir_);
  }

  static ServiceOptions options() {
    ServiceOptions out;
    out.instance_create_delay = std::chrono::milliseconds(0);
    out.task_create_delay = std::chrono::milliseconds(0);
    out.task_start_delay = std::chrono::milliseconds(0);
    out.connection_test_timeout = std::chrono::seconds(2);
    return out;
  }

  Json call(const std::string& operation, const Json& body) {
    return service_.handle({"000000000000", "us-east-1"}, operation, body);
  }
  std::string code(const std::string& operation, const Json& body) {
    try {
      call(operation, body);
    } catch (const ApiError& error) {
      return error.code();
    }
    return "no error";
  }
  std::string endpoint(const std::string& id, const std::string& type) {
    return call("CreateEndpoint", {{"EndpointIdentifier", id},
                                   {"EndpointType", type},
                                   {"EngineName", "postgres"},
                                   {"ServerName", "127.0.0.1"},
                                   {"Port", 5432},
                                   {"DatabaseName", "db"},
                                   {"Username", "u"},
                                   {"Password", "pw"}})["Endpoint"]["EndpointArn"];
  }
  std::string instance(const std::string& id) {
    return call("CreateReplicationInstance",
                {{"ReplicationInstanceIdentifier", id},
                 {"ReplicationInstanceClass",
                  "dms.t3.micro"}})["ReplicationInstance"]["ReplicationInstanceArn"];
  }
  Json task_body(const std::string& id, const std::string& source, const std::string& target,
                 const std::string& instance_arn) {
    return {{"ReplicationTaskIdentifier", id}, {"SourceEndpointArn", source},
            {"TargetEndpointArn", target},     {"ReplicationInstanceArn", instance_arn},
            {"MigrationType", "full-load"},    {"TableMappings", kMappings}};
  }
  template <class Predicate>
  static void wait_for(Predicate predicate) {
    for (int i = 0; i < 500 && !predicate(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(predicate());
  }
  // A full-load replication config "rc" (1 DCU) started for the first time and handed to the
  // executor; returns its ARN.
  std::string started_full_load_replication() {
    const Json create = {{"ReplicationConfigIdentifier", "rc"},
                         {"SourceEndpointArn", endpoint("s", "source")},
                         {"TargetEndpointArn", endpoint("d", "target")},
                         {"ComputeConfig", {{"MaxCapacityUnits", 1}}},
                         {"ReplicationType", "full-load"},
                         {"TableMappings", kMappings}};
    const auto arn =
        call("CreateReplicationConfig", create)["ReplicationConfig"]["ReplicationConfigArn"]
            .get<std::string>();
    call("StartReplication",
         {{"ReplicationConfigArn", arn}, {"StartReplicationType", "start-replication"}});
    wait_for([&] { return executor_.run_of(arn).has_value(); });
    return arn;
  }
  Json replication(const std::string& arn) {
    return call("DescribeReplications",
                {{"Filters",
                  {{{"Name", "replication-config-arn"}, {"Values", {arn}}}}}})["Replications"][0];
  }

  static constexpr const char* kMappings =
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",)"
      R"("object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"}]})";

  std::filesystem::path dir_;
  Store store_;
  FakeExecutor executor_;
  aws::SystemClock clock_;
  DmsService service_;
};

TEST_F(ServiceTest, InstanceQuotaIsEnforced) {
  for (int i = 0; i < 60; ++i) instance("rep-" + std::to_string(i));
  EXPECT_EQ(code("CreateReplicationInstance", {{"ReplicationInstanceIdentifier", "one-too-many"},
                                               {"ReplicationInstanceClass", "dms.t3.micro"}}),
            "ResourceQuotaExceededFault");
}

TEST_F(ServiceTest, PerInstanceQuotasAreEnforced) {
  const auto rep = instance("rep");
  // 100 endpoints per instance: 50 tasks with their own pair use them all.
  for (int i = 0; i < 50; ++i) {
    const auto n = std::to_string(i);
    call("CreateReplicationTask",
         task_body("t" + n, endpoint("s" + n, "source"), endpoint("d" + n, "target"), rep));
  }
  const auto source = endpoint("s-extra", "source");
  const auto target = endpoint("d-extra", "target");
  EXPECT_EQ(code("CreateReplicationTask", task_body("t-extra", source, target, rep)),
            "ResourceQuotaExceededFault");
  // 200 tasks per instance (endpoints reused).
  const auto other = instance("other");
  for (int i = 0; i < 200; ++i) {
    call("CreateReplicationTask", task_body("o" + std::to_string(i), source, target, other));
  }
  EXPECT_EQ(code("CreateReplicationTask", task_body("o-extra", source, target, other)),
            "ResourceQuotaExceededFault");
  const auto quotas = call("DescribeAccountAttributes", Json::object())["AccountQuotas"];
  EXPECT_EQ(quotas[3]["AccountQuotaName"], "ReplicationTasks");
  EXPECT_EQ(quotas[3]["Used"], 250);
}

TEST_F(ServiceTest, ReloadTablesGoesToTheExecutorOnlyForKnownTablesOfARunningTask) {
  const auto rep = instance("rep");
  const auto task =
      call("CreateReplicationTask", task_body("t", endpoint("s", "source"), endpoint("d", "target"),
                                              rep))["ReplicationTask"]["ReplicationTaskArn"]
          .get<std::string>();
  const Json reload = {{"ReplicationTaskArn", task},
                       {"TablesToReload", {{{"SchemaName", "public"}, {"TableName", "a"}}}}};
  EXPECT_EQ(code("ReloadTables", reload), "InvalidResourceStateFault");
  call("StartReplicationTask",
       {{"ReplicationTaskArn", task}, {"StartReplicationTaskType", "start-replication"}});
  wait_for([&] { return executor_.run_of(task).has_value(); });
  auto callbacks = executor_.take(task);
  dms::TableStatistics table;
  table.schema_name = "public";
  table.table_name = "a";
  table.table_state = "Table completed";
  callbacks->on_table_statistics({table});

  executor_.refuse_reloads_ = true;
  try {
    call("ReloadTables", reload);
    FAIL() << "a refused reload must be an error";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), "InvalidParameterValueException");
    EXPECT_THAT(error.what(), HasSubstr("public.a: busy"));
  }
  executor_.refuse_reloads_ = false;
  EXPECT_EQ(call("ReloadTables", reload)["ReplicationTaskArn"], task);
  EXPECT_EQ(executor_.reloads(task), 2u);
  const auto stats = call("DescribeTableStatistics", {{"ReplicationTaskArn", task}});
  EXPECT_EQ(stats["TableStatistics"][0]["TableState"], "Table is being reloaded");
  callbacks->on_finished("Stop Reason FULL_LOAD_ONLY_FINISHED");
  EXPECT_EQ(code("ReloadTables", reload), "InvalidResourceStateFault");
}

TEST_F(ServiceTest, ServerlessRunsEndAsTheDataPlaneSays) {
  const auto source = endpoint("s", "source");
  const auto target = endpoint("d", "target");
  const Json create = {
      {"ReplicationConfigIdentifier", "rc"}, {"SourceEndpointArn", source},
      {"TargetEndpointArn", target},         {"ComputeConfig", {{"MaxCapacityUnits", 16}}},
      {"ReplicationType", "full-load"},      {"TableMappings", kMappings}};
  const auto arn =
      call("CreateReplicationConfig", create)["ReplicationConfig"]["ReplicationConfigArn"]
          .get<std::string>();
  call("StartReplication",
       {{"ReplicationConfigArn", arn}, {"StartReplicationType", "start-replication"}});
  wait_for([&] { return executor_.run_of(arn).has_value(); });
  const auto run = *executor_.run_of(arn);
  // The executor gets the config as a task, with the endpoints' stored passwords.
  EXPECT_EQ(run.task.replication_task_identifier, "rc");
  EXPECT_EQ(run.task.migration_type, "full-load");
  EXPECT_EQ(run.source_password, "pw");
  EXPECT_EQ(replication(arn)["Status"], "running");
  EXPECT_EQ(replication(arn)["ProvisionData"]["ProvisionedCapacityUnits"], 16);

  dms::ReplicationTaskStats progress;
  progress.full_load_progress_percent = 100;
  progress.tables_loaded = 3;
  auto callbacks = executor_.take(arn);
  // ReloadReplicationTables: the serverless ReloadTables, same rules.
  dms::TableStatistics table;
  table.schema_name = "public";
  table.table_name = "a";
  table.table_state = "Table completed";
  callbacks->on_table_statistics({table});
  const Json reload = {{"ReplicationConfigArn", arn},
                       {"TablesToReload", {{{"SchemaName", "public"}, {"TableName", "a"}}}}};
  EXPECT_EQ(call("ReloadReplicationTables", reload)["ReplicationConfigArn"], arn);
  EXPECT_EQ(executor_.reloads(arn), 1u);
  EXPECT_EQ(call("DescribeReplicationTableStatistics",
                 {{"ReplicationConfigArn", arn}})["ReplicationTableStatistics"][0]["TableState"],
            "Table is being reloaded");
  EXPECT_EQ(code("ReloadReplicationTables",
                 {{"ReplicationConfigArn", arn},
                  {"TablesToReload", {{{"SchemaName", "public"}, {"TableName", "zz"}}}}}),
            "InvalidParameterValueException");
  callbacks->on_progress(progress);
  EXPECT_EQ(replication(arn)["ReplicationStats"]["TablesLoaded"], 3);
  callbacks->on_finished("Stop Reason FULL_LOAD_ONLY_FINISHED");
  const auto done = replication(arn);
  EXPECT_EQ(done["Status"], "stopped");
  EXPECT_EQ(done["StopReason"], "Stop Reason FULL_LOAD_ONLY_FINISHED");
  EXPECT_TRUE(done.contains("ReplicationLastStopTime"));
  EXPECT_EQ(code("ReloadReplicationTables", reload), "InvalidResourceStateFault");
  // Reports of a run that is over change nothing.
  progress.tables_loaded = 99;
  callbacks->on_progress(progress);
  EXPECT_EQ(replication(arn)["ReplicationStats"]["TablesLoaded"], 3);

  call("StartReplication",
       {{"ReplicationConfigArn", arn}, {"StartReplicationType", "reload-target"}});
  wait_for([&] { return replication(arn)["Status"] == "running"; });
  EXPECT_EQ(replication(arn)["StartReplicationType"], "reload-target");
  EXPECT_FALSE(replication(arn).contains("StopReason"));
}

TEST_F(ServiceTest, ServerlessFailureAndRestartRecovery) {
  const auto arn = started_full_load_replication();
  executor_.take(arn)->on_failed("source went away");
  auto failed = replication(arn);
  EXPECT_EQ(failed["Status"], "failed");
  EXPECT_EQ(failed["StopReason"], "Stop Reason FATAL_ERROR");
  EXPECT_EQ(failed["FailureMessages"], Json::array({"source went away"}));
  // After a failure the config may be modified again (the API model's rule).
  EXPECT_EQ(code("ModifyReplicationConfig",
                 {{"ReplicationConfigArn", arn}, {"ComputeConfig", {{"MaxCapacityUnits", 2}}}}),
            "no error");

  call("StartReplication",
       {{"ReplicationConfigArn", arn}, {"StartReplicationType", "resume-processing"}});
  wait_for([&] { return replication(arn)["Status"] == "running"; });
  // A process that died mid-run: the run comes back failed, saying so.
  service_.recover_interrupted_tasks();
  const auto recovered = replication(arn);
  EXPECT_EQ(recovered["Status"], "failed");
  EXPECT_THAT(recovered["FailureMessages"][0].get<std::string>(),
              HasSubstr("dms-local stopped unexpectedly"));
}

// Tasks and serverless replications share one run lifecycle: a run the data plane gives up on
// after recoverable errors ends with the same stop reason for both.
TEST_F(ServiceTest, ServerlessRecoverableFailureEndsAsATaskWould) {
  const auto arn = started_full_load_replication();
  executor_.take(arn)->on_failed_recoverable("connection to the source lost");
  const auto failed = replication(arn);
  EXPECT_EQ(failed["Status"], "failed");
  EXPECT_EQ(failed["StopReason"], "Stop Reason RECOVERABLE_ERROR");
  EXPECT_EQ(failed["FailureMessages"], Json::array({"connection to the source lost"}));
  EXPECT_TRUE(failed["ReplicationStats"].contains("ElapsedTimeMillis"));
}

TEST_F(ServiceTest, ConnectionTestsRunInTheBackgroundAndSurviveARestartAsFailed) {
  // A server that accepts TCP connections (in its backlog) and never answers: libpq waits for
  // its connect timeout, so the test is still `testing` when we look.
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(silent, 8), 0);
  socklen_t length = sizeof address;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &length);
  const auto rep = instance("rep");
  const auto arn = call("CreateEndpoint", {{"EndpointIdentifier", "silent"},
                                           {"EndpointType", "source"},
                                           {"EngineName", "postgres"},
                                           {"ServerName", "127.0.0.1"},
                                           {"Port", ntohs(address.sin_port)},
                                           {"DatabaseName", "db"},
                                           {"Username", "u"}})["Endpoint"]["EndpointArn"]
                       .get<std::string>();
  const Json test = {{"ReplicationInstanceArn", rep}, {"EndpointArn", arn}};
  EXPECT_EQ(call("TestConnection", test)["Connection"]["Status"], "testing");
  EXPECT_EQ(code("TestConnection", test), "InvalidResourceStateFault");  // one at a time
  service_.recover_interrupted_tasks();
  const auto connection = call("DescribeConnections", Json::object())["Connections"][0];
  EXPECT_EQ(connection["Status"], "failed");
  EXPECT_THAT(connection["LastFailureMessage"].get<std::string>(), HasSubstr("interrupted"));
  // The interrupted test's own result, when it comes, does not overwrite that.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_THAT(call("DescribeConnections", Json::object())["Connections"][0]["LastFailureMessage"]
                  .get<std::string>(),
              HasSubstr("interrupted"));
  ::close(silent);
  // Deleting the endpoint deletes its connection.
  call("DeleteEndpoint", {{"EndpointArn", arn}});
  EXPECT_TRUE(call("DescribeConnections", Json::object())["Connections"].empty());
}

}  // namespace
}  // namespace dagster_dms::server
