// dms-local's logic for connection tests, serverless replication rules and seed files.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "server/dms_api/connection_tester.hpp"
#include "server/dms_api/replication_rules.hpp"
#include "server/dms_api/run_types.hpp"
#include "server/dms_api/seed.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string api_code(const std::function<void()>& call) {
  try {
    call();
  } catch (const ApiError& error) {
    return error.code();
  }
  return "no error";
}

// A loopback port nobody listens on: bound, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TEST(ConnectionTester, FailureMessageHasDmsShape) {
  const auto message =
      connection_failure_message("Cannot connect to ODBC provider Network error has occurred",
                                 "08001", 101, "connection to server at \"127.0.0.1\" failed");
  EXPECT_EQ(message,
            "Test Endpoint failed: Application-Status: 1020912, Application-Message: Cannot "
            "connect to ODBC provider Network error has occurred, Application-Detailed-Message: "
            "RetCode: SQL_ERROR SqlState: 08001 NativeError: 101 Message: connection to server "
            "at \"127.0.0.1\" failed");
}

TEST(ConnectionTester, UnreachablePostgresNamesHostAndPortNotThePassword) {
  ConnectionTestRequest request;
  request.endpoint.engine_name = "postgres";
  request.endpoint.server_name = "127.0.0.1";
  const int port = closed_port();
  request.endpoint.port = port;
  request.endpoint.database_name = "db";
  request.endpoint.username = "dms";
  request.password = "secret-pw-123";
  request.connect_timeout = std::chrono::seconds(2);
  const auto failure = test_endpoint_connection(request);
  ASSERT_TRUE(failure);
  EXPECT_THAT(*failure, HasSubstr("Network error has occurred"));
  EXPECT_THAT(*failure, HasSubstr("127.0.0.1"));
  EXPECT_THAT(*failure, HasSubstr(std::to_string(port)));
  EXPECT_THAT(*failure, Not(HasSubstr("secret-pw-123")));
}

// Short and common-word passwords used to be masked wherever they occurred, which mangled the
// message and gave them away (`1`: "****27.0.0.****", port ****). The message must not depend on
// the password at all.
TEST(ConnectionTester, MessageIsTheSameWhateverThePassword) {
  ConnectionTestRequest request;
  request.endpoint.engine_name = "postgres";
  request.endpoint.server_name = "127.0.0.1";
  const int port = closed_port();
  request.endpoint.port = port;
  request.endpoint.database_name = "postgres";
  request.endpoint.username = "postgres";
  request.connect_timeout = std::chrono::seconds(2);
  request.password = "a-reference-password-nobody-uses";
  const auto reference = test_endpoint_connection(request);
  ASSERT_TRUE(reference);
  EXPECT_THAT(*reference, HasSubstr(fmt::format("\"127.0.0.1\", port {} failed", port)));
  for (const char* password : {"1", "o", "postgres", "password", "test", "127.0.0.1"}) {
    request.password = password;
    const auto failure = test_endpoint_connection(request);
    ASSERT_TRUE(failure);
    EXPECT_EQ(*failure, *reference) << "password " << password;
    EXPECT_THAT(*failure, Not(HasSubstr("****")));
  }
}

TEST(ConnectionTester, S3BucketMustBeWritableUnderTheRoot) {
  const auto base =
      std::filesystem::temp_directory_path() / ("dms-local-ct-" + std::to_string(::getpid()));
  const auto root = base / "root";
  std::filesystem::remove_all(base);
  EXPECT_TRUE(test_s3_bucket(std::nullopt, "bucket", ""));  // no --s3-root
  EXPECT_FALSE(test_s3_bucket(root, "bucket", "dms"));      // created
  EXPECT_TRUE(std::filesystem::is_directory(root / "bucket"));
  EXPECT_TRUE(std::filesystem::is_empty(root / "bucket"));  // the probe is removed
  // A file where the bucket directory should be: not usable.
  std::ofstream(root / "blocked") << "x";
  EXPECT_TRUE(test_s3_bucket(root, "blocked", ""));
  std::filesystem::remove_all(base);
}

TEST(ConnectionTester, S3NamesThatLeaveTheRootFailAndCreateNothing) {
  const auto base =
      std::filesystem::temp_directory_path() / ("dms-local-ct-out-" + std::to_string(::getpid()));
  const auto root = base / "root";
  const auto outside = base / "outside";
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(root);
  std::filesystem::create_directories(outside);
  std::filesystem::create_directory_symlink(outside, root / "linked");
  const auto failure_for = [&](const std::string& bucket, const std::string& folder) {
    const auto failure = test_s3_bucket(root, bucket, folder);
    return failure.value_or("(succeeded)");
  };
  EXPECT_THAT(failure_for("../outside", ""), HasSubstr("S3Settings.BucketName"));
  EXPECT_THAT(failure_for(outside.string(), ""), HasSubstr("S3Settings.BucketName"));
  EXPECT_THAT(failure_for("bucket", "../../outside"), HasSubstr("S3Settings.BucketFolder"));
  EXPECT_THAT(failure_for("linked", ""), HasSubstr("symbolic link"));
  EXPECT_THAT(failure_for("bucket", "/abs"), HasSubstr("S3Settings.BucketFolder"));
  EXPECT_TRUE(std::filesystem::is_empty(outside));
  // Only the link is in the root: the bad bucket names created nothing there either.
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"linked"});
  std::filesystem::remove_all(base);
}

TEST(ReplicationRules, ComputeConfig) {
  dms::ComputeConfig config;
  EXPECT_EQ(api_code([&] { validate_compute_config(config); }), "InvalidParameterValueException");
  config.max_capacity_units = 3;
  EXPECT_EQ(api_code([&] { validate_compute_config(config); }), "InvalidParameterValueException");
  config.max_capacity_units = 4;
  EXPECT_EQ(api_code([&] { validate_compute_config(config); }), "no error");
  config.min_capacity_units = 8;
  EXPECT_EQ(api_code([&] { validate_compute_config(config); }),
            "InvalidParameterCombinationException");
  config.min_capacity_units = 2;
  config.multi_az = true;
  config.availability_zone = "us-east-1a";
  EXPECT_EQ(api_code([&] { validate_compute_config(config); }),
            "InvalidParameterCombinationException");
  config.availability_zone.reset();
  EXPECT_EQ(api_code([&] { validate_compute_config(config); }), "no error");
  EXPECT_EQ(provisioned_capacity_units(config), 4);
  EXPECT_TRUE(is_valid_capacity_units(384));
  EXPECT_FALSE(is_valid_capacity_units(0));
}

TEST(ReplicationRules, StartTypes) {
  EXPECT_EQ(api_code([] { check_start_type("R", "start-replication", 0); }), "no error");
  EXPECT_EQ(api_code([] { check_start_type("R", "resume-processing", 0); }),
            "InvalidResourceStateFault");
  EXPECT_EQ(api_code([] { check_start_type("R", "reload-target", 0); }),
            "InvalidResourceStateFault");
  EXPECT_EQ(api_code([] { check_start_type("R", "start-replication", 1); }),
            "InvalidResourceStateFault");
  EXPECT_EQ(api_code([] { check_start_type("R", "reload-target", 2); }), "no error");
  EXPECT_EQ(api_code([] { check_start_type("R", "go", 0); }), "InvalidParameterValueException");
}

std::string seed_error(const std::string& yaml) {
  try {
    parse_seed(read_seed_document(yaml, false, "s.yaml"), "s.yaml");
  } catch (const SeedError& error) {
    return error.what();
  }
  return "no error";
}

TEST(Seed, YamlScalarsTagsAndJsonMembers) {
  const auto seed = parse_seed(read_seed_document(R"(
account: "123456789012"
region: eu-west-1
endpoints:
  - EndpointIdentifier: src
    EndpointType: source
    EngineName: postgres
    Port: 5432
    Password: "0123"
    Tags: {env: dev, team: data}
tasks:
  - ReplicationTaskIdentifier: t1
    SourceEndpoint: src
    TargetEndpoint: tgt
    ReplicationInstance: rep
    TableMappings:
      rules: [{rule-type: selection, rule-id: "1", rule-name: "1"}]
)",
                                                  false, "s.yaml"),
                               "s.yaml");
  EXPECT_EQ(seed.account, "123456789012");
  EXPECT_EQ(seed.region, "eu-west-1");
  ASSERT_EQ(seed.endpoints.size(), 1u);
  const auto& endpoint = seed.endpoints[0].fields;
  EXPECT_EQ(endpoint["Port"], 5432);
  EXPECT_EQ(endpoint["Password"], "0123");
  EXPECT_EQ(endpoint["Tags"].size(), 2u);
  EXPECT_EQ(endpoint["Tags"][0]["Key"], "env");
  ASSERT_EQ(seed.tasks.size(), 1u);
  ASSERT_TRUE(seed.tasks[0].fields["TableMappings"].is_string());
  const auto mappings =
      nlohmann::json::parse(seed.tasks[0].fields["TableMappings"].get<std::string>());
  EXPECT_EQ(mappings["rules"][0]["rule-id"], "1");
}

TEST(Seed, DefaultsAndJson) {
  const auto seed =
      parse_seed(read_seed_document(R"({"instances": [{"ReplicationInstanceIdentifier": "r1"}]})",
                                    true, "s.json"),
                 "s.json");
  EXPECT_EQ(seed.account, "000000000000");
  EXPECT_EQ(seed.region, "us-east-1");
  ASSERT_EQ(seed.instances.size(), 1u);
}

TEST(Seed, ErrorsNameTheEntryAndTheField) {
  EXPECT_THAT(seed_error("endpoints:\n  - EndpointIdentifier: a\n    EngineName: postgres\n"),
              HasSubstr("endpoints[0] (a): field EndpointType: missing"));
  EXPECT_THAT(seed_error("tasks:\n  - ReplicationTaskIdentifier: bad_id\n"),
              HasSubstr("tasks[0] (bad_id): field ReplicationTaskIdentifier"));
  EXPECT_THAT(seed_error("instances:\n  - ReplicationInstanceIdentifier: r\n    Colour: red\n"),
              HasSubstr("instances[0] (r): unknown field Colour"));
  EXPECT_THAT(seed_error("widgets: []\n"), HasSubstr("unknown top-level field widgets"));
  EXPECT_THAT(seed_error("account: 000000000000\nregion: us-east-1\n"), HasSubstr("no error"));
  EXPECT_THAT(seed_error("account: 12\n"), HasSubstr("field account"));
  EXPECT_THAT(seed_error("instances:\n  - ReplicationInstanceIdentifier: r\n  - "
                         "ReplicationInstanceIdentifier: R\n"),
              HasSubstr("declared twice"));
  EXPECT_THAT(seed_error("endpoints: [\n"), HasSubstr("not valid YAML"));
  EXPECT_THAT(seed_error("endpoints:\n  - EndpointType: source\n"),
              HasSubstr("endpoints[0]: field EndpointIdentifier: missing"));
}

}  // namespace
}  // namespace dagster_dms::server
