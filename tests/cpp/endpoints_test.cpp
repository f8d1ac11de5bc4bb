// How a session resolves its settings the way boto3 does: endpoints (explicit, environment,
// shared config services sections, defaults), region, profile, retry settings, explicit keys, and
// that credentials are not fetched while the session is built.

#include "aws/endpoints.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "aws/errors.hpp"
#include "aws/session.hpp"
#include "plumbing_fakes.hpp"

namespace dagster_dms::aws {
namespace {

namespace fs = std::filesystem;
using testing::FakeClock;
using testing::ScriptedTransport;

constexpr const char* kConfig = R"([default]
region = eu-west-1
services = local

[profile dev]
region = ap-southeast-2
endpoint_url = http://dev.example:9000
max_attempts = 7
retry_mode = adaptive

[profile bad-attempts]
region = us-east-1
max_attempts = zero

[profile bad-url]
region = us-east-1
endpoint_url = ftp://nowhere

[services local]
dms =
  endpoint_url = http://services-dms.example:4566
cloudwatch =
  endpoint_url = http://services-cw.example:4566
)";

class EndpointResolution : public ::testing::Test {
 protected:
  std::string resolve(const ServiceInfo& service, const std::string& profile = "default") {
    EndpointContext context;
    context.env = &env;
    context.config = &config;
    context.profile = profile;
    context.region = region;
    context.explicit_endpoint = explicit_endpoint;
    return resolve_endpoint(service, context);
  }

  MapEnvironment env;
  ConfigFiles config = ConfigFiles::parse(kConfig, "");
  std::string region = "us-east-1";
  std::optional<std::string> explicit_endpoint;
};

TEST_F(EndpointResolution, DefaultsToTheRegionalAwsEndpoint) {
  config = ConfigFiles::parse("", "");
  EXPECT_EQ(resolve(dms_service()), "https://dms.us-east-1.amazonaws.com");
  EXPECT_EQ(resolve(cloudwatch_service()), "https://monitoring.us-east-1.amazonaws.com");
  EXPECT_EQ(resolve(logs_service()), "https://logs.us-east-1.amazonaws.com");
  region = "cn-north-1";
  EXPECT_EQ(resolve(dms_service()), "https://dms.cn-north-1.amazonaws.com.cn");
}

TEST_F(EndpointResolution, ExplicitEndpointCoversDmsWorkButNotSts) {
  explicit_endpoint = "http://127.0.0.1:4566";
  env.set("AWS_ENDPOINT_URL_DMS", "http://env-dms:1");
  EXPECT_EQ(resolve(dms_service()), "http://127.0.0.1:4566");
  EXPECT_EQ(resolve(cloudwatch_service()), "http://127.0.0.1:4566");
  EXPECT_EQ(resolve(logs_service()), "http://127.0.0.1:4566");
  config = ConfigFiles::parse("", "");
  EXPECT_EQ(resolve(sts_service()), "https://sts.us-east-1.amazonaws.com");
}

TEST_F(EndpointResolution, ServiceSpecificEnvironmentBeatsGlobal) {
  env.set("AWS_ENDPOINT_URL", "http://global:1");
  env.set("AWS_ENDPOINT_URL_DMS", "http://dms-only:2");
  env.set("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://logs-only:3");
  EXPECT_EQ(resolve(dms_service()), "http://dms-only:2");
  EXPECT_EQ(resolve(logs_service()), "http://logs-only:3");
  EXPECT_EQ(resolve(cloudwatch_service()), "http://global:1");
  EXPECT_EQ(resolve(sts_service()), "http://global:1");
}

TEST_F(EndpointResolution, EnvironmentBeatsServicesSectionWhichBeatsProfileEndpoint) {
  EXPECT_EQ(resolve(dms_service()), "http://services-dms.example:4566");
  EXPECT_EQ(resolve(cloudwatch_service()), "http://services-cw.example:4566");
  // Not in the services section and no profile endpoint_url: the default.
  EXPECT_EQ(resolve(logs_service()), "https://logs.us-east-1.amazonaws.com");
  EXPECT_EQ(resolve(dms_service(), "dev"), "http://dev.example:9000");
  env.set("AWS_ENDPOINT_URL", "http://env:1");
  EXPECT_EQ(resolve(dms_service()), "http://env:1");
  EXPECT_EQ(resolve(dms_service(), "dev"), "http://env:1");
}

TEST_F(EndpointResolution, IgnoreConfiguredEndpointUrlsLeavesOnlyTheExplicitOne) {
  env.set("AWS_ENDPOINT_URL", "http://env:1");
  env.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
  EXPECT_EQ(resolve(dms_service()), "https://dms.us-east-1.amazonaws.com");
  EXPECT_EQ(resolve(dms_service(), "dev"), "https://dms.us-east-1.amazonaws.com");
  explicit_endpoint = "http://explicit:2";
  EXPECT_EQ(resolve(dms_service()), "http://explicit:2");
}

TEST_F(EndpointResolution, ProfileCanIgnoreConfiguredEndpointUrls) {
  config = ConfigFiles::parse(
      "[default]\nendpoint_url = http://p:1\nignore_configured_endpoint_urls = true\n", "");
  EXPECT_EQ(resolve(dms_service()), "https://dms.us-east-1.amazonaws.com");
  env.set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false");  // the environment wins
  EXPECT_EQ(resolve(dms_service()), "http://p:1");
}

TEST_F(EndpointResolution, BadUrlsNameTheirSource) {
  env.set("AWS_ENDPOINT_URL_DMS", "localhost:4566");
  try {
    resolve(dms_service());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("AWS_ENDPOINT_URL_DMS"), std::string::npos) << e.what();
  }
  try {
    resolve(logs_service(), "bad-url");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("profile 'bad-url'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ftp"), std::string::npos) << e.what();
  }
  explicit_endpoint = "http://";
  EXPECT_THROW(resolve(dms_service()), ConfigError);
}

// Session-level resolution, reading real files through AWS_CONFIG_FILE.
class SessionResolution : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("dagster-dms-endpoints-" +
           std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
    std::ofstream(dir / "config") << kConfig;
    std::ofstream(dir / "credentials") << "[dev]\naws_access_key_id = AKIDDEV\n"
                                          "aws_secret_access_key = devsecret\n";
    env = std::make_shared<MapEnvironment>();
    env->set("HOME", (dir / "home").string());
    env->set("AWS_CONFIG_FILE", (dir / "config").string());
    env->set("AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string());
    // Keep the credential chain away from real metadata endpoints.
    env->set("AWS_EC2_METADATA_DISABLED", "true");
  }
  void TearDown() override { fs::remove_all(dir); }

  std::shared_ptr<Session> create(const ClientOptions& options = {}) {
    return Session::create(options, {env, clock, transport});
  }

  static std::string message_of(const std::function<void()>& call) {
    try {
      call();
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "expected ConfigError";
    return {};
  }

  fs::path dir;
  std::shared_ptr<MapEnvironment> env;
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::shared_ptr<ScriptedTransport> transport = std::make_shared<ScriptedTransport>();
};

TEST_F(SessionResolution, RegionPrecedence) {
  EXPECT_EQ(create()->region(), "eu-west-1");  // profile
  env->set("AWS_DEFAULT_REGION", "us-west-1");
  EXPECT_EQ(create()->region(), "us-west-1");
  env->set("AWS_REGION", "us-west-2");
  EXPECT_EQ(create()->region(), "us-west-2");
  ClientOptions options;
  options.region = "sa-east-1";
  EXPECT_EQ(create(options)->region(), "sa-east-1");
}

TEST_F(SessionResolution, MissingRegionSaysWhatToSet) {
  env->set("AWS_CONFIG_FILE", (dir / "absent").string());
  const auto message = message_of([&] { create(); });
  EXPECT_NE(message.find("No AWS region"), std::string::npos) << message;
  EXPECT_NE(message.find("AWS_REGION"), std::string::npos) << message;
  EXPECT_NE(message.find("profile default"), std::string::npos) << message;
}

TEST_F(SessionResolution, InvalidRegionIsRejected) {
  ClientOptions options;
  options.region = "us-east-1.evil.com/";
  EXPECT_THROW(create(options), ConfigError);
}

TEST_F(SessionResolution, ProfilePrecedence) {
  env->set("AWS_PROFILE", "dev");
  auto session = create();
  EXPECT_EQ(session->profile(), "dev");
  EXPECT_EQ(session->region(), "ap-southeast-2");
  ClientOptions options;
  options.profile = "default";
  EXPECT_EQ(create(options)->region(), "eu-west-1");
}

TEST_F(SessionResolution, UnknownProfileIsAConfigError) {
  ClientOptions options;
  options.profile = "nope";
  const auto message = message_of([&] { create(options); });
  EXPECT_NE(message.find("nope"), std::string::npos) << message;
}

TEST_F(SessionResolution, RetrySettingsPrecedence) {
  auto defaults = create();
  EXPECT_EQ(defaults->retry_config().max_attempts, 3);
  EXPECT_EQ(defaults->retry_config().mode, RetryMode::kStandard);

  env->set("AWS_PROFILE", "dev");
  EXPECT_EQ(create()->retry_config().max_attempts, 7);
  EXPECT_EQ(create()->retry_config().mode, RetryMode::kAdaptive);

  env->set("AWS_MAX_ATTEMPTS", "4");
  env->set("AWS_RETRY_MODE", "standard");
  EXPECT_EQ(create()->retry_config().max_attempts, 4);
  EXPECT_EQ(create()->retry_config().mode, RetryMode::kStandard);

  ClientOptions options;
  options.max_attempts = 2;
  options.retry_mode = "adaptive";
  EXPECT_EQ(create(options)->retry_config().max_attempts, 2);
  EXPECT_EQ(create(options)->retry_config().mode, RetryMode::kAdaptive);
}

TEST_F(SessionResolution, BadRetrySettingsNameTheirSource) {
  env->set("AWS_MAX_ATTEMPTS", "0");
  EXPECT_NE(message_of([&] { create(); }).find("AWS_MAX_ATTEMPTS"), std::string::npos);
  env->set("AWS_MAX_ATTEMPTS", "");
  ClientOptions options;
  options.max_attempts = 0;
  EXPECT_THROW(create(options), ConfigError);
  options.max_attempts.reset();
  options.profile = "bad-attempts";
  EXPECT_NE(message_of([&] { create(options); }).find("profile 'bad-attempts'"), std::string::npos);
  options.profile.reset();
  env->set("AWS_RETRY_MODE", "turbo");
  EXPECT_NE(message_of([&] { create(); }).find("AWS_RETRY_MODE"), std::string::npos);
}

TEST_F(SessionResolution, ExplicitKeysMustComeInPairs) {
  ClientOptions options;
  options.access_key_id = "AKIDONLY";
  EXPECT_NE(message_of([&] { create(options); }).find("aws_secret_access_key"), std::string::npos);
  ClientOptions secret_only;
  secret_only.secret_access_key = Secret("lonely-secret-value");
  const auto message = message_of([&] { create(secret_only); });
  EXPECT_EQ(message.find("lonely-secret-value"), std::string::npos) << message;
  ClientOptions token_only;
  token_only.session_token = Secret("tok");
  EXPECT_THROW(create(token_only), ConfigError);
}

TEST_F(SessionResolution, ExplicitKeysAreUsedAndFetchedLazily) {
  ClientOptions options;
  options.access_key_id = "AKIDEXPLICIT";
  options.secret_access_key = Secret("explicit-secret");
  auto session = create(options);
  EXPECT_TRUE(transport->sent().empty());
  const auto credentials = session->credentials();
  EXPECT_EQ(credentials.access_key_id, "AKIDEXPLICIT");
  EXPECT_EQ(credentials.secret_access_key.reveal(), "explicit-secret");
}

TEST_F(SessionResolution, CreatingASessionSendsNothing) {
  // No keys anywhere: resolving them would reach for the container or instance metadata
  // endpoints. Building the session must not.
  env->set("AWS_EC2_METADATA_DISABLED", "");
  auto session = create();
  EXPECT_TRUE(transport->sent().empty());
}

TEST_F(SessionResolution, ProfileCredentialsComeFromTheSharedFiles) {
  env->set("AWS_PROFILE", "dev");
  EXPECT_EQ(create()->credentials().access_key_id, "AKIDDEV");
}

TEST_F(SessionResolution, EndpointsThroughTheSession) {
  auto session = create();
  EXPECT_EQ(session->endpoint_for(dms_service()), "http://services-dms.example:4566");
  EXPECT_EQ(session->endpoint_for(logs_service()), "https://logs.eu-west-1.amazonaws.com");
  ClientOptions options;
  options.endpoint_url = "http://localhost:4566";
  auto local = create(options);
  EXPECT_EQ(local->endpoint_for(logs_service()), "http://localhost:4566");
  EXPECT_EQ(local->endpoint_for(sts_service()), "https://sts.eu-west-1.amazonaws.com");
}

TEST_F(SessionResolution, BadEndpointFailsAtCreation) {
  ClientOptions options;
  options.endpoint_url = "localhost:4566";
  EXPECT_NE(message_of([&] { create(options); }).find("endpoint_url"), std::string::npos);
  env->set("AWS_ENDPOINT_URL_CLOUDWATCH", "gopher://x");
  EXPECT_NE(message_of([&] { create(); }).find("AWS_ENDPOINT_URL_CLOUDWATCH"), std::string::npos);
}

}  // namespace
}  // namespace dagster_dms::aws
