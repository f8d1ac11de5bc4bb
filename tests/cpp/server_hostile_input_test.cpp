// dms-local's defences against hostile input, below HTTP: bounded nesting in every wire protocol
// and settings document, settings types, region names, loopback Host/Origin checks, the state
// directory lock, the connection threads, and a stop signal that arrives at the worst moment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "aws/clock.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/task_settings.hpp"
#include "server/execution/task_executor.hpp"
#include "server/front/api_error.hpp"
#include "server/front/connection_threads.hpp"
#include "server/front/fault_injector.hpp"
#include "server/front/http_front.hpp"
#include "server/front/json_nesting.hpp"
#include "server/front/sigv4_verifier.hpp"
#include "server/front/wire_protocol.hpp"
#include "server/store/store.hpp"

namespace dagster_dms::server {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string nested_objects(std::size_t depth) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) out += R"({"a":)";
  out += "1";
  out.append(depth, '}');
  return out;
}

// The ApiError `body` throws, or a failure when it throws nothing.
ApiError error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ApiError& error) {
    return error;
  }
  ADD_FAILURE() << "no ApiError";
  return {0, "none", ""};
}

TEST(JsonNesting, CountsBracketsOutsideStringsOnly) {
  EXPECT_FALSE(exceeds_nesting_limit(nested_objects(kMaxNestingDepth)));
  EXPECT_TRUE(exceeds_nesting_limit(nested_objects(kMaxNestingDepth + 1)));
  EXPECT_TRUE(exceeds_nesting_limit(std::string(1'000'000, '[')));
  const std::string in_strings = R"({"a":")" + std::string(500, '{') + R"(\"[[[[", "b": 1})";
  EXPECT_FALSE(exceeds_nesting_limit(in_strings));
  EXPECT_FALSE(exceeds_nesting_limit(""));
}

TEST(WireNesting, EveryProtocolRefusesDeepBodiesBeforeParsing) {
  Route json_route;
  const std::string deep_json = R"({"Unknown":)" + nested_objects(100'000) + "}";
  const auto json_error = error_of([&] { decode_request_body(json_route, deep_json); });
  EXPECT_EQ(json_error.code(), "SerializationException");
  EXPECT_THAT(json_error.what(), HasSubstr("100 levels"));
  EXPECT_EQ(decode_request_body(json_route, R"({"Unknown":)" + nested_objects(30) + "}").size(),
            1u);

  Route cbor_route;
  cbor_route.wire = Wire::kRpcV2Cbor;
  const std::string deep_cbor = std::string(100'000, '\x81') + '\x01';
  EXPECT_EQ(error_of([&] { decode_request_body(cbor_route, deep_cbor); }).code(),
            "SerializationException");

  Route query_route;
  query_route.wire = Wire::kQuery;
  std::string deep_query = "Action=ListMetrics&Version=2010-08-01&A";
  for (int i = 0; i < 100'000; ++i) deep_query += ".A";
  deep_query += "=1";
  const auto query_error = error_of([&] { decode_request_body(query_route, deep_query); });
  EXPECT_EQ(query_error.code(), "InvalidParameterValue");
  EXPECT_THAT(query_error.what(), HasSubstr("at most 100 levels"));
}

TEST(TaskSettingsChecks, DepthEmptinessAndTypesAreRefusedNamingTheField) {
  const auto deep = R"({"Unknown":)" + nested_objects(100'000) + "}";
  EXPECT_THAT(error_of([&] { complete_task_settings(deep, "ri", "T", true); }).what(),
              HasSubstr("100 levels"));
  EXPECT_THAT(
      error_of([&] { merge_task_settings_change("{}", deep, "ReplicationTaskSettings"); }).what(),
      HasSubstr("100 levels"));
  EXPECT_THAT(error_of([&] { validate_table_mappings(deep); }).what(), HasSubstr("100 levels"));
  const auto empty = error_of([] { merge_task_settings_change("{}", "", "ReplicationSettings"); });
  EXPECT_EQ(empty.code(), "InvalidParameterValueException");
  EXPECT_THAT(empty.what(), HasSubstr("ReplicationSettings"));
  EXPECT_THAT(error_of([] {
                complete_task_settings(R"({"Logging":{"EnableLogging":"yes"}})", "ri", "T", true);
              }).what(),
              HasSubstr("Logging.EnableLogging must be true or false, not string"));
  EXPECT_THAT(error_of([] {
                merge_task_settings_change("{}",
                                           R"({"FullLoadSettings":{"MaxFullLoadSubTasks":"8"}})",
                                           "ReplicationTaskSettings");
              }).what(),
              HasSubstr("FullLoadSettings.MaxFullLoadSubTasks must be an integer"));
  // Members DMS does not define are kept as given; a null keeps the default.
  const auto completed = Json::parse(complete_task_settings(
      R"({"Extra":{"x":"y"},"FullLoadSettings":{"CommitRate":null}})", "ri", "T", true));
  EXPECT_EQ(completed["Extra"]["x"], "y");
  EXPECT_EQ(completed["FullLoadSettings"]["CommitRate"], 10000);
}

TEST(RegionNames, FollowTheAwsSpelling) {
  for (const char* good : {"us-east-1", "us-gov-west-1", "eu-isoe-west-1", "local"}) {
    EXPECT_TRUE(is_valid_region_name(good)) << good;
  }
  for (const std::string& bad :
       {std::string("bogus region!"), std::string(5000, 'r'), std::string("us-east-1:999999999999"),
        std::string(":x"), std::string("US-EAST-1"), std::string(""), std::string("1us"),
        std::string("us-east-")}) {
    EXPECT_FALSE(is_valid_region_name(bad)) << bad;
  }
}

TEST(LoopbackAuthority, NamesOnlyTheLocalMachine) {
  for (const char* local : {"localhost", "localhost:4566", "127.0.0.1", "127.0.0.1:80", "[::1]",
                            "[::1]:4566", "127.1.2.3:9"}) {
    EXPECT_TRUE(is_loopback_authority(local)) << local;
  }
  for (const char* foreign : {"", "evil.example", "127.0.0.1.evil.example", "localhost.evil:80",
                              "[::2]:80", "[::1]x", "null", "10.0.0.1:4566"}) {
    EXPECT_FALSE(is_loopback_authority(foreign)) << foreign;
  }
}

TEST(ArnResourceId, NeverFailsEvenOnArnsWithAnEmptyRegion) {
  EXPECT_EQ(arn_resource_id("arn:aws:dms::x:000000000000:task:ABC"), "ABC");
  EXPECT_EQ(arn_resource_id("arn:aws:dms:us-east-1:000000000000:task:ABC"), "ABC");
  EXPECT_EQ(arn_resource_id("ABC"), "ABC");
}

class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_(std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Before regions were validated, a scope region ":x" made ARNs whose region part is empty, and
// ModifyReplicationTask with settings then dereferenced an empty optional.
TEST(SettingsPaths, ModifyWorksOnArnsWithoutARegionPart) {
  TempDir dir("dms-hostile-arn");
  Store store(dir.path());
  NoDataPlaneExecutor executor;
  aws::SystemClock clock;
  ServiceOptions options;
  options.instance_create_delay = std::chrono::milliseconds(0);
  options.task_create_delay = std::chrono::milliseconds(0);
  DmsService service(store, executor, clock, options);
  const RequestContext context{"000000000000", ":x"};
  const auto endpoint = [&](const char* id, const char* type) {
    return service
        .handle(context, "CreateEndpoint",
                {{"EndpointIdentifier", id},
                 {"EndpointType", type},
                 {"EngineName", "postgres"},
                 {"ServerName", "127.0.0.1"},
                 {"Port", 5432},
                 {"DatabaseName", "db"},
                 {"Username", "u"},
                 {"Password", "pw"}})["Endpoint"]["EndpointArn"]
        .get<std::string>();
  };
  const auto source = endpoint("src", "source");
  const auto target = endpoint("dst", "target");
  const auto instance =
      service
          .handle(context, "CreateReplicationInstance",
                  {{"ReplicationInstanceIdentifier", "ri"},
                   {"ReplicationInstanceClass",
                    "dms.t3.micro"}})["ReplicationInstance"]["ReplicationInstanceArn"]
          .get<std::string>();
  const auto task =
      service
          .handle(context, "CreateReplicationTask",
                  {{"ReplicationTaskIdentifier", "t"},
                   {"SourceEndpointArn", source},
                   {"TargetEndpointArn", target},
                   {"ReplicationInstanceArn", instance},
                   {"MigrationType", "full-load"},
                   {"TableMappings",
                    R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",)"
                    R"("object-locator":{"schema-name":"public","table-name":"%"},)"
                    R"("rule-action":"include"}]})"}})["ReplicationTask"]["ReplicationTaskArn"]
          .get<std::string>();
  const auto modified =
      service.handle(context, "ModifyReplicationTask",
                     {{"ReplicationTaskArn", task},
                      {"ReplicationTaskSettings", R"({"FullLoadSettings":{"CommitRate":500}})"}});
  EXPECT_THAT(modified["ReplicationTask"]["ReplicationTaskSettings"].get<std::string>(),
              HasSubstr(R"("CommitRate":500)"));
  service.shutdown();
}

TEST(StateDirectoryLock, ASecondHolderIsRefusedNamingTheDirectory) {
  TempDir dir("dms-hostile-lock");
  {
    StateDirectoryLock first(dir.path());
    try {
      StateDirectoryLock second(dir.path());
      ADD_FAILURE() << "the second lock was granted";
    } catch (const std::runtime_error& error) {
      EXPECT_THAT(error.what(), HasSubstr(dir.path().string()));
      EXPECT_THAT(error.what(), HasSubstr("already served by another dms-local"));
    }
  }
  // Released with its holder.
  EXPECT_NO_THROW(StateDirectoryLock again(dir.path()));
}

TEST(ConnectionThreads, BlockedConnectionsDoNotHoldBackOthers) {
  // Twenty connections that each wait until all twenty run at once: a fixed pool of eight
  // threads would never get there.
  constexpr int kConnections = 20;
  std::mutex mutex;
  std::condition_variable all_running;
  int running = 0;
  std::atomic<int> finished{0};
  {
    ConnectionThreads threads(256);
    for (int i = 0; i < kConnections; ++i) {
      threads.enqueue([&] {
        std::unique_lock lock(mutex);
        ++running;
        all_running.notify_all();
        if (all_running.wait_for(lock, std::chrono::seconds(60),
                                 [&] { return running == kConnections; })) {
          ++finished;
        }
      });
    }
    threads.shutdown();
  }
  EXPECT_EQ(finished.load(), kConnections);
}

// A SIGTERM that comes right after the port file is written reaches HttpFront::stop() before
// serve() has started cpp-httplib's accept loop; that stop must not be lost (it used to be, and
// dms-local then ignored the signal and had to be killed).
class HttpFrontStop : public ::testing::Test {
 protected:
  HttpFrontStop() : store_(dir_.path()), service_(store_, executor_, clock_, ServiceOptions{}) {}
  ~HttpFrontStop() override { service_.shutdown(); }

  // Runs serve() on a thread and says whether it returned within a minute.
  static bool serve_returns(HttpFront& front, const std::function<void()>& meanwhile) {
    auto served = std::async(std::launch::async, [&front] { front.serve(); });
    meanwhile();
    if (served.wait_for(std::chrono::minutes(1)) == std::future_status::ready) return true;
    // The future's destructor would wait forever; nothing else can be done for this process.
    ADD_FAILURE() << "serve() did not return after stop()";
    std::_Exit(1);
  }

  TempDir dir_{"dms-http-front-stop"};
  Store store_;
  NoDataPlaneExecutor executor_;
  aws::SystemClock clock_;
  DmsService service_;
  SigV4Verifier verifier_{{}, clock_};
  Logger logger_{LogLevel::kError};
  FaultInjector faults_;
};

TEST_F(HttpFrontStop, AStopBeforeServeMakesServeReturnAtOnce) {
  HttpFront front(verifier_, service_, logger_, faults_);
  ASSERT_GT(front.bind("127.0.0.1", 0), 0);
  front.stop();
  EXPECT_TRUE(serve_returns(front, [] {}));
}

TEST_F(HttpFrontStop, AStopRacingTheStartOfServeIsNeverLost) {
  for (int round = 0; round < 200; ++round) {
    HttpFront front(verifier_, service_, logger_, faults_);
    ASSERT_GT(front.bind("127.0.0.1", 0), 0);
    ASSERT_TRUE(serve_returns(front, [&front] { front.stop(); })) << "round " << round;
  }
}

}  // namespace
}  // namespace dagster_dms::server
