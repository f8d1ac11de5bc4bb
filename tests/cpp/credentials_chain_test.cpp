#include "aws/credentials_chain.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "aws/caching_provider.hpp"
#include "aws/errors.hpp"
#include "aws/provider_support.hpp"
#include "aws/sso_provider.hpp"
#include "fake_transport.hpp"

namespace dagster_dms::aws {
namespace {

using testing::FakeTransport;
using namespace std::chrono_literals;

TimePoint at(std::string_view iso) {
  return *provider_support::parse_iso8601(iso);
}

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint now) : now_(now) {}
  [[nodiscard]] TimePoint now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void sleep_for(std::chrono::milliseconds duration) override { advance(duration); }
  void advance(std::chrono::milliseconds duration) {
    std::lock_guard lock(mutex_);
    now_ += duration;
  }

 private:
  mutable std::mutex mutex_;
  TimePoint now_;
};

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "credtest-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  std::string write(const std::string& relative, const std::string& content) const {
    auto file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

// Secrets the fixtures use; no error message may ever contain one.
constexpr const char* kSecrets[] = {"SECRETenv",     "SECRETprofile", "SECRETsource",
                                    "SECRETrole",    "TOKENrole",     "SSOACCESSTOKEN",
                                    "SECRETsso",     "TOKENsso",      "WEBIDENTITYTOKEN",
                                    "SECRETprocess", "CONTAINERAUTH", "SECRETimds"};

void expect_no_secrets(const std::string& message) {
  for (const char* secret : kSecrets) {
    EXPECT_EQ(message.find(secret), std::string::npos) << "secret " << secret << " in: " << message;
  }
}

std::string sts_xml(const std::string& action, const std::string& key, const std::string& secret,
                    const std::string& token, const std::string& expiration) {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><Credentials><AccessKeyId>" + key + "</AccessKeyId><SecretAccessKey>" + secret +
         "</SecretAccessKey><SessionToken>" + token + "</SessionToken><Expiration>" + expiration +
         "</Expiration></Credentials></" + action + "Result></" + action + "Response>";
}

class ChainTest : public ::testing::Test {
 protected:
  ChainTest()
      : env_(std::make_shared<MapEnvironment>()),
        clock_(std::make_shared<FakeClock>(at("2024-01-01T00:00:00Z"))),
        transport_(std::make_shared<FakeTransport>()) {
    env_->set("HOME", home_.path().string());
  }

  void config(const std::string& text) { home_.write(".aws/config", text); }
  void credentials(const std::string& text) { home_.write(".aws/credentials", text); }

  ChainContext context(std::optional<std::string> profile = std::nullopt) {
    ChainContext context;
    context.env = env_;
    context.clock = clock_;
    context.config = std::make_shared<const ConfigFiles>(ConfigFiles::load(*env_));
    context.transport = transport_;
    context.profile = std::move(profile);
    context.region = "us-east-1";
    return context;
  }

  Credentials resolve(std::optional<std::string> profile = std::nullopt,
                      std::optional<Credentials> explicit_keys = std::nullopt) {
    auto chain =
        make_default_credentials_chain(context(std::move(profile)), std::move(explicit_keys));
    auto credentials = chain->resolve();
    if (!credentials) throw std::logic_error("chain returned nullopt");
    return *credentials;
  }

  // The message of the error resolve() throws; fails the test if it does not throw `E`.
  template <typename E>
  std::string error_of(std::optional<std::string> profile = std::nullopt) {
    try {
      (void)resolve(std::move(profile));
    } catch (const E& error) {
      expect_no_secrets(error.what());
      return error.what();
    }
    ADD_FAILURE() << "expected an exception";
    return {};
  }

  TempDir home_;
  std::shared_ptr<MapEnvironment> env_;
  std::shared_ptr<FakeClock> clock_;
  std::shared_ptr<FakeTransport> transport_;
};

// --- order and the environment ---------------------------------------------------------------

TEST_F(ChainTest, NothingConfiguredIsAClearError) {
  const std::string message = error_of<CredentialsError>();
  EXPECT_NE(message.find("Unable to locate AWS credentials"), std::string::npos);
  // Only IMDS was tried on the network (absent: the fake refuses the connection).
  ASSERT_EQ(transport_->request_count(), 1u);
  EXPECT_EQ(transport_->requests()[0].url, "http://169.254.169.254/latest/api/token");
}

TEST_F(ChainTest, EnvironmentKeys) {
  env_->set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_->set("AWS_SECRET_ACCESS_KEY", "SECRETenv");
  env_->set("AWS_SESSION_TOKEN", "TOKENenv");
  env_->set("AWS_CREDENTIAL_EXPIRATION", "2024-01-01T06:00:00Z");
  credentials(
      "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = SECRETprofile\n");
  auto creds = resolve();
  EXPECT_EQ(creds.access_key_id, "AKIDENV");
  EXPECT_EQ(creds.secret_access_key.reveal(), "SECRETenv");
  EXPECT_EQ(creds.session_token.reveal(), "TOKENenv");
  EXPECT_EQ(creds.expiration, at("2024-01-01T06:00:00Z"));
  EXPECT_EQ(creds.provider, "env");
  EXPECT_EQ(transport_->request_count(), 0u);
}

TEST_F(ChainTest, KeyIdWithoutSecretIsAnError) {
  env_->set("AWS_ACCESS_KEY_ID", "AKIDENV");
  const std::string message = error_of<CredentialsError>();
  EXPECT_NE(message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(ChainTest, ExplicitKeysComeFirst) {
  env_->set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_->set("AWS_SECRET_ACCESS_KEY", "SECRETenv");
  Credentials explicit_keys;
  explicit_keys.access_key_id = "AKIDEXPLICIT";
  explicit_keys.secret_access_key = Secret("SECRETexplicit");
  auto creds = resolve(std::nullopt, explicit_keys);
  EXPECT_EQ(creds.access_key_id, "AKIDEXPLICIT");
  EXPECT_EQ(creds.provider, "explicit");
}

TEST_F(ChainTest, NamedProfileTurnsTheEnvironmentOff) {
  env_->set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env_->set("AWS_SECRET_ACCESS_KEY", "SECRETenv");
  credentials("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = SECRETprofile\n");
  EXPECT_EQ(resolve("dev").access_key_id, "AKIDDEV");
  // AWS_PROFILE selects the profile but, as in boto3, leaves the environment keys first.
  env_->set("AWS_PROFILE", "dev");
  EXPECT_EQ(resolve().access_key_id, "AKIDENV");
}

TEST_F(ChainTest, AwsProfileSelectsTheProfile) {
  credentials(
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = SECRETprofile\n"
      "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = SECRETprofile\n");
  EXPECT_EQ(resolve().access_key_id, "AKIDDEFAULT");
  env_->set("AWS_PROFILE", "dev");
  auto creds = resolve();
  EXPECT_EQ(creds.access_key_id, "AKIDDEV");
  EXPECT_EQ(creds.provider, "shared-credentials-file");
}

TEST_F(ChainTest, UnknownProfileIsAConfigError) {
  config("[profile real]\nregion = us-east-1\n");
  EXPECT_THROW((void)make_default_credentials_chain(context("nope"), std::nullopt), ConfigError);
  try {
    (void)make_default_credentials_chain(context("nope"), std::nullopt);
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), "The config profile (nope) could not be found");
  }
  env_->set("AWS_PROFILE", "also-missing");
  EXPECT_THROW((void)make_default_credentials_chain(context(), std::nullopt), ConfigError);
  // As the session allows, a named "default" may be absent.
  env_->set("AWS_PROFILE", "default");
  EXPECT_NO_THROW((void)make_default_credentials_chain(context(), std::nullopt));
}

TEST_F(ChainTest, StaticProfileKeysFromConfigFile) {
  config(
      "[profile cfg]\naws_access_key_id = AKIDCFG\naws_secret_access_key = SECRETprofile\n"
      "aws_session_token = TOKENprofile\n");
  auto creds = resolve("cfg");
  EXPECT_EQ(creds.access_key_id, "AKIDCFG");
  EXPECT_EQ(creds.session_token.reveal(), "TOKENprofile");
  EXPECT_FALSE(creds.expiration.has_value());
}

TEST_F(ChainTest, PartialProfileKeysAreAnError) {
  credentials("[p]\naws_access_key_id = AKIDP\n");
  EXPECT_NE(error_of<CredentialsError>("p").find("aws_secret_access_key"), std::string::npos);
}

// --- credential_process ------------------------------------------------------------------------

TEST_F(ChainTest, CredentialProcess) {
  const std::string script = home_.write(
      "bin/creds.sh",
      "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", \"SecretAccessKey\": "
      "\"SECRETprocess\", \"SessionToken\": \"TOKENprocess\", \"Expiration\": "
      "\"2024-01-01T01:00:00Z\"}'\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  config("[profile proc]\ncredential_process = " + script + " --flag \"quoted arg\"\n");
  auto creds = resolve("proc");
  EXPECT_EQ(creds.access_key_id, "AKIDPROC");
  EXPECT_EQ(creds.secret_access_key.reveal(), "SECRETprocess");
  EXPECT_EQ(creds.session_token.reveal(), "TOKENprocess");
  EXPECT_EQ(creds.expiration, at("2024-01-01T01:00:00Z"));
  EXPECT_EQ(creds.provider, "custom-process");
}

TEST_F(ChainTest, CredentialProcessWithoutExpirationOrToken) {
  config(
      "[profile proc]\ncredential_process = printf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIDP\","
      "\"SecretAccessKey\":\"SECRETprocess\"}'\n");
  auto creds = resolve("proc");
  EXPECT_EQ(creds.access_key_id, "AKIDP");
  EXPECT_TRUE(creds.session_token.empty());
  EXPECT_FALSE(creds.expiration.has_value());
}

TEST_F(ChainTest, CredentialProcessFailureCarriesStderrNotStdout) {
  config(
      "[profile proc]\ncredential_process = sh -c 'echo SECRETprocess; echo \"token expired, "
      "log in again\" >&2; exit 3'\n");
  const std::string message = error_of<CredentialsError>("proc");
  EXPECT_NE(message.find("token expired, log in again"), std::string::npos) << message;
  EXPECT_NE(message.find("exit status 3"), std::string::npos) << message;
}

TEST_F(ChainTest, CredentialProcessBadOutput) {
  config("[profile proc]\ncredential_process = echo not json SECRETprocess\n");
  EXPECT_NE(error_of<CredentialsError>("proc").find("JSON"), std::string::npos);
  config(
      "[profile proc]\ncredential_process = echo '{\"Version\": 2, \"AccessKeyId\": \"A\", "
      "\"SecretAccessKey\": \"SECRETprocess\"}'\n");
  EXPECT_NE(error_of<CredentialsError>("proc").find("Version"), std::string::npos);
}

// --- SSO ---------------------------------------------------------------------------------------

class SsoTest : public ChainTest {
 protected:
  void cache_token(const std::string& key, const std::string& expires_at) {
    home_.write(".aws/sso/cache/" + sha1_hex(key) + ".json",
                "{\"startUrl\": \"https://corp.awsapps.com/start\", \"region\": \"eu-central-1\", "
                "\"accessToken\": \"SSOACCESSTOKEN\", \"expiresAt\": \"" +
                    expires_at + "\"}");
  }
  void portal_answers() {
    transport_->push_response(
        200, R"({"roleCredentials": {"accessKeyId": "ASIASSO", "secretAccessKey": "SECRETsso",)"
             R"( "sessionToken": "TOKENsso", "expiration": 1704070800000}})");
  }
};

TEST(Sha1, KnownVector) {
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_F(SsoTest, SsoSessionProfile) {
  config(
      "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n"
      "sso_role_name = Admin+Role\nregion = us-west-2\n"
      "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
      "sso_region = eu-central-1\nsso_registration_scopes = sso:account:access\n");
  cache_token("corp", "2024-01-01T08:00:00Z");
  portal_answers();
  auto creds = resolve("sso");
  EXPECT_EQ(creds.access_key_id, "ASIASSO");
  EXPECT_EQ(creds.secret_access_key.reveal(), "SECRETsso");
  EXPECT_EQ(creds.session_token.reveal(), "TOKENsso");
  EXPECT_EQ(creds.expiration, at("2024-01-01T01:00:00Z"));
  EXPECT_EQ(creds.provider, "sso");

  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].url,
            "https://portal.sso.eu-central-1.amazonaws.com/federation/credentials"
            "?role_name=Admin%2BRole&account_id=123456789012");
  EXPECT_EQ(requests[0].headers.get("x-amz-sso_bearer_token"), "SSOACCESSTOKEN");
  EXPECT_FALSE(requests[0].headers.contains("Authorization"));
}

TEST_F(SsoTest, LegacyProfileUsesTheStartUrlAsCacheKey) {
  config(
      "[profile legacy]\nsso_start_url = https://corp.awsapps.com/start\n"
      "sso_region = eu-central-1\nsso_account_id = 123456789012\nsso_role_name = Admin\n");
  cache_token("https://corp.awsapps.com/start", "2024-01-01T08:00:00Z");
  portal_answers();
  EXPECT_EQ(resolve("legacy").access_key_id, "ASIASSO");
}

TEST_F(SsoTest, PortalEndpointOverride) {
  config(
      "[profile legacy]\nsso_start_url = https://corp.awsapps.com/start\n"
      "sso_region = eu-central-1\nsso_account_id = 123456789012\nsso_role_name = Admin\n");
  cache_token("https://corp.awsapps.com/start", "2024-01-01T08:00:00Z");
  env_->set("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9999");
  portal_answers();
  (void)resolve("legacy");
  EXPECT_EQ(transport_->requests().at(0).url,
            "http://127.0.0.1:9999/federation/credentials?role_name=Admin&account_id=123456789012");
}

TEST_F(SsoTest, ExpiredOrMissingTokenSaysHowToLogIn) {
  config(
      "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n"
      "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
      "sso_region = eu-central-1\n");
  std::string message = error_of<CredentialsError>("sso");
  EXPECT_NE(message.find("aws sso login --profile sso"), std::string::npos) << message;

  cache_token("corp", "2023-12-31T23:59:59Z");
  message = error_of<CredentialsError>("sso");
  EXPECT_NE(message.find("expired"), std::string::npos) << message;
  EXPECT_NE(message.find("aws sso login --profile sso"), std::string::npos) << message;
  EXPECT_EQ(transport_->request_count(), 0u);

  // The portal's own refusal says the same.
  cache_token("corp", "2024-01-01T08:00:00Z");
  transport_->push_response(401, R"({"message": "Session token not found or invalid"})");
  message = error_of<CredentialsError>("sso");
  EXPECT_NE(message.find("aws sso login --profile sso"), std::string::npos) << message;
}

TEST_F(SsoTest, MissingSettingsAreNamed) {
  config("[profile sso]\nsso_session = corp\nsso_account_id = 1\n[sso-session corp]\n");
  const std::string message = error_of<ConfigError>("sso");
  EXPECT_NE(message.find("sso_start_url"), std::string::npos) << message;
  EXPECT_NE(message.find("sso_role_name"), std::string::npos) << message;
}

// --- assume role -------------------------------------------------------------------------------

TEST_F(ChainTest, AssumeRoleWithSourceProfile) {
  config(
      "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\n"
      "source_profile = base\nrole_session_name = my-session\nexternal_id = ext-42\n"
      "duration_seconds = 1800\n");
  credentials("[base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = SECRETsource\n");
  transport_->push_response(
      200, sts_xml("AssumeRole", "ASIAROLE", "SECRETrole", "TOKENrole", "2024-01-01T01:00:00Z"));

  auto creds = resolve("role");
  EXPECT_EQ(creds.access_key_id, "ASIAROLE");
  EXPECT_EQ(creds.secret_access_key.reveal(), "SECRETrole");
  EXPECT_EQ(creds.session_token.reveal(), "TOKENrole");
  EXPECT_EQ(creds.expiration, at("2024-01-01T01:00:00Z"));
  EXPECT_EQ(creds.provider, "assume-role");

  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://sts.us-east-1.amazonaws.com/");
  EXPECT_EQ(request.body,
            "Action=AssumeRole&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FDeploy"
            "&RoleSessionName=my-session&ExternalId=ext-42&DurationSeconds=1800");
  EXPECT_EQ(request.headers.get("Content-Type"),
            "application/x-www-form-urlencoded; charset=utf-8");
  const std::string authorization = request.headers.get("Authorization").value_or("");
  EXPECT_TRUE(authorization.starts_with(
      "AWS4-HMAC-SHA256 Credential=AKIDSOURCE/20240101/us-east-1/sts/aws4_request"))
      << authorization;
  EXPECT_EQ(request.headers.get("X-Amz-Date"), "20240101T000000Z");
  EXPECT_FALSE(request.headers.contains("X-Amz-Security-Token"));
}

TEST_F(ChainTest, RoleChainSignsEachHopWithThePreviousCredentials) {
  config(
      "[profile outer]\nrole_arn = arn:aws:iam::1:role/Outer\nsource_profile = inner\n"
      "region = eu-west-1\n"
      "[profile inner]\nrole_arn = arn:aws:iam::1:role/Inner\nsource_profile = base\n");
  credentials("[base]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = SECRETsource\n");
  transport_->push_response(
      200, sts_xml("AssumeRole", "ASIAINNER", "SECRETrole", "TOKENrole", "2024-01-01T01:00:00Z"));
  transport_->push_response(
      200, sts_xml("AssumeRole", "ASIAOUTER", "SECRETrole", "TOKENrole", "2024-01-01T01:00:00Z"));

  EXPECT_EQ(resolve("outer").access_key_id, "ASIAOUTER");
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].body.find("role%2FInner"), std::string::npos);
  EXPECT_NE(requests[0].headers.get("Authorization")->find("Credential=AKIDSOURCE/"),
            std::string::npos);
  EXPECT_NE(requests[1].body.find("role%2FOuter"), std::string::npos);
  EXPECT_NE(requests[1].headers.get("Authorization")->find("Credential=ASIAINNER/"),
            std::string::npos);
  EXPECT_EQ(requests[1].headers.get("X-Amz-Security-Token"), "TOKENrole");
  // Every hop uses the session's region, not the role profile's own, as botocore does.
  EXPECT_EQ(requests[0].url, "https://sts.us-east-1.amazonaws.com/");
  EXPECT_EQ(requests[1].url, "https://sts.us-east-1.amazonaws.com/");
}

TEST_F(ChainTest, SourceProfileLoopIsRefused) {
  config(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = a\n");
  EXPECT_NE(error_of<ConfigError>("a").find("Infinite loop"), std::string::npos);
  EXPECT_EQ(transport_->request_count(), 0u);
}

TEST_F(ChainTest, ProfileMaySourceItselfWithStaticKeys) {
  config("[profile self]\nrole_arn = arn:aws:iam::1:role/Self\nsource_profile = self\n");
  credentials("[self]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = SECRETsource\n");
  transport_->push_response(
      200, sts_xml("AssumeRole", "ASIASELF", "SECRETrole", "TOKENrole", "2024-01-01T01:00:00Z"));
  EXPECT_EQ(resolve("self").access_key_id, "ASIASELF");
}

TEST_F(ChainTest, MissingSourceProfileAndBadSettings) {
  config("[profile r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = ghost\n");
  EXPECT_NE(error_of<ConfigError>("r").find("ghost"), std::string::npos);
  config("[profile r]\nrole_arn = arn:aws:iam::1:role/R\n");
  EXPECT_NE(error_of<ConfigError>("r").find("source_profile"), std::string::npos);
  config("[profile r]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = Somewhere\n");
  EXPECT_NE(error_of<ConfigError>("r").find("Somewhere"), std::string::npos);
  config(
      "[profile r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = b\nmfa_serial = arn:mfa\n"
      "[profile b]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = SECRETsource\n");
  EXPECT_NE(error_of<CredentialsError>("r").find("mfa_serial"), std::string::npos);
}

TEST_F(ChainTest, StsErrorNamesRoleAndCode) {
  config("[profile r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = b\n");
  credentials("[b]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = SECRETsource\n");
  transport_->push_response(
      403,
      "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>"
      "<Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform "
      "sts:AssumeRole</Message></Error><RequestId>abc</RequestId></ErrorResponse>");
  const std::string message = error_of<CredentialsError>("r");
  EXPECT_NE(message.find("arn:aws:iam::1:role/R"), std::string::npos) << message;
  EXPECT_NE(message.find("AccessDenied"), std::string::npos) << message;
  EXPECT_NE(message.find("not authorized"), std::string::npos) << message;
}

TEST_F(ChainTest, StsRetriesThrottlingAndServerErrors) {
  config("[profile r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = b\n");
  credentials("[b]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = SECRETsource\n");
  transport_->push_response(
      400,
      "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
      "</ErrorResponse>");
  transport_->push_error(TransportError(TransportError::Kind::kConnectionReset, "reset"));
  transport_->push_response(
      200, sts_xml("AssumeRole", "ASIAROLE", "SECRETrole", "TOKENrole", "2024-01-01T01:00:00Z"));
  EXPECT_EQ(resolve("r").access_key_id, "ASIAROLE");
  EXPECT_EQ(transport_->request_count(), 3u);
}

TEST_F(ChainTest, CredentialSourceEnvironment) {
  config("[profile r]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = Environment\n");
  env_->set("AWS_ACCESS_KEY_ID", "AKIDSOURCE");
  env_->set("AWS_SECRET_ACCESS_KEY", "SECRETsource");
  transport_->push_response(
      200, sts_xml("AssumeRole", "ASIAROLE", "SECRETrole", "TOKENrole", "2024-01-01T01:00:00Z"));
  EXPECT_EQ(resolve("r").access_key_id, "ASIAROLE");
  EXPECT_NE(transport_->requests()[0].headers.get("Authorization")->find("AKIDSOURCE"),
            std::string::npos);
}

TEST_F(ChainTest, StsEndpointFromServicesSection) {
  config(
      "[profile r]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = b\nservices = local\n"
      "[services local]\nsts =\n  endpoint_url = http://127.0.0.1:4566\n");
  credentials("[b]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = SECRETsource\n");
  transport_->push_response(
      200, sts_xml("AssumeRole", "ASIAROLE", "SECRETrole", "TOKENrole", "2024-01-01T01:00:00Z"));
  (void)resolve("r");
  EXPECT_EQ(transport_->requests()[0].url, "http://127.0.0.1:4566/");
}

// --- web identity ------------------------------------------------------------------------------

TEST_F(ChainTest, WebIdentityFromEnvironment) {
  env_->set("AWS_WEB_IDENTITY_TOKEN_FILE", home_.write("token", "WEBIDENTITYTOKEN\n"));
  env_->set("AWS_ROLE_ARN", "arn:aws:iam::1:role/Irsa");
  env_->set("AWS_ROLE_SESSION_NAME", "pod-session");
  env_->set("AWS_ENDPOINT_URL_STS", "https://sts.example.test");
  // botocore puts web identity ahead of the profile's static keys.
  credentials(
      "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = SECRETprofile\n");
  transport_->push_response(200, sts_xml("AssumeRoleWithWebIdentity", "ASIAWEB", "SECRETrole",
                                         "TOKENrole", "2024-01-01T01:00:00Z"));
  auto creds = resolve();
  EXPECT_EQ(creds.access_key_id, "ASIAWEB");
  EXPECT_EQ(creds.provider, "assume-role-with-web-identity");
  auto request = transport_->requests().at(0);
  EXPECT_EQ(request.url, "https://sts.example.test/");
  EXPECT_EQ(request.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2FIrsa&RoleSessionName=pod-session"
            "&WebIdentityToken=WEBIDENTITYTOKEN");
  EXPECT_FALSE(request.headers.contains("Authorization"));
}

TEST_F(ChainTest, NamedProfileIgnoresEnvironmentWebIdentity) {
  env_->set("AWS_WEB_IDENTITY_TOKEN_FILE", home_.write("token", "WEBIDENTITYTOKEN"));
  env_->set("AWS_ROLE_ARN", "arn:aws:iam::1:role/Irsa");
  credentials("[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = SECRETprofile\n");
  EXPECT_EQ(resolve("dev").access_key_id, "AKIDDEV");
  EXPECT_EQ(transport_->request_count(), 0u);
}

TEST_F(ChainTest, WebIdentityFromProfileAndItsErrors) {
  config("[profile w]\nweb_identity_token_file = " + home_.path().string() +
         "/missing\nrole_arn = arn:aws:iam::1:role/W\n");
  std::string message = error_of<CredentialsError>("w");
  EXPECT_NE(message.find("arn:aws:iam::1:role/W"), std::string::npos) << message;

  config("[profile w]\nweb_identity_token_file = ~/token\nrole_arn = arn:aws:iam::1:role/W\n");
  home_.write("token", "WEBIDENTITYTOKEN");
  transport_->push_response(
      400,
      "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>Incorrect token "
      "audience</Message></Error></ErrorResponse>");
  message = error_of<CredentialsError>("w");
  EXPECT_NE(message.find("InvalidIdentityToken"), std::string::npos) << message;
}

// --- containers --------------------------------------------------------------------------------

constexpr const char* kContainerJson =
    R"({"AccessKeyId": "ASIAECS", "SecretAccessKey": "SECRETecs", "Token": "TOKENecs",)"
    R"( "Expiration": "2024-01-01T06:00:00Z", "RoleArn": "arn:aws:iam::1:role/Task"})";

TEST_F(ChainTest, EcsRelativeUri) {
  env_->set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  transport_->push_response(200, kContainerJson);
  auto creds = resolve();
  EXPECT_EQ(creds.access_key_id, "ASIAECS");
  EXPECT_EQ(creds.session_token.reveal(), "TOKENecs");
  EXPECT_EQ(creds.expiration, at("2024-01-01T06:00:00Z"));
  EXPECT_EQ(creds.provider, "container-role");
  auto request = transport_->requests().at(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.url, "http://169.254.170.2/v2/credentials/abc");
  EXPECT_FALSE(request.headers.contains("Authorization"));
}

TEST_F(ChainTest, EcsFullUriWithTokenFile) {
  env_->set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials");
  env_->set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", home_.write("eks-token", "CONTAINERAUTH\n"));
  env_->set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set");
  transport_->push_response(200, kContainerJson);
  EXPECT_EQ(resolve().access_key_id, "ASIAECS");
  auto request = transport_->requests().at(0);
  EXPECT_EQ(request.url, "http://169.254.170.23/v1/credentials");
  EXPECT_EQ(request.headers.get("Authorization"), "CONTAINERAUTH");
}

TEST_F(ChainTest, EcsFullUriHostsAllowed) {
  for (const char* url :
       {"http://127.0.0.1:8080/creds", "http://localhost/creds", "http://[::1]:9000/creds",
        "http://[fd00:ec2::23]/creds", "https://creds.example.com/x"}) {
    env_->set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
    env_->set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "CONTAINERAUTH");
    transport_->push_response(200, kContainerJson);
    EXPECT_EQ(resolve().access_key_id, "ASIAECS") << url;
  }
  env_->set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example.com/creds");
  EXPECT_NE(error_of<CredentialsError>().find("must use https"), std::string::npos);
}

TEST_F(ChainTest, EcsFailureIsAnErrorWithoutTheToken) {
  env_->set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/creds");
  env_->set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "CONTAINERAUTH");
  transport_->push_response(500, "oops");
  transport_->push_response(503, "oops");
  transport_->push_response(500, "oops");
  const std::string message = error_of<CredentialsError>();
  EXPECT_NE(message.find("HTTP 500"), std::string::npos) << message;
  EXPECT_EQ(transport_->request_count(), 3u);
}

// --- IMDS --------------------------------------------------------------------------------------

constexpr const char* kImdsJson =
    R"({"Code": "Success", "LastUpdated": "2024-01-01T00:00:00Z", "Type": "AWS-HMAC",)"
    R"( "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "SECRETimds", "Token": "TOKENimds",)"
    R"( "Expiration": "2024-01-01T06:00:00Z"})";

TEST_F(ChainTest, ImdsV2) {
  transport_->push_response(200, "IMDSTOKEN");
  transport_->push_response(200, "my-instance-role\n");
  transport_->push_response(200, kImdsJson);
  auto creds = resolve();
  EXPECT_EQ(creds.access_key_id, "ASIAIMDS");
  EXPECT_EQ(creds.provider, "iam-role");
  EXPECT_EQ(creds.expiration, at("2024-01-01T06:00:00Z"));

  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].url, "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(requests[0].headers.get("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].url, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(requests[1].headers.get("X-aws-ec2-metadata-token"), "IMDSTOKEN");
  EXPECT_EQ(requests[2].url,
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/my-instance-role");
  EXPECT_EQ(requests[2].headers.get("X-aws-ec2-metadata-token"), "IMDSTOKEN");
  for (const auto& request : requests) {
    EXPECT_EQ(request.connect_timeout, std::chrono::milliseconds(1000));
    EXPECT_EQ(request.read_timeout, std::chrono::milliseconds(1000));
  }
}

TEST_F(ChainTest, ImdsSettings) {
  env_->set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");
  env_->set("AWS_METADATA_SERVICE_TIMEOUT", "2.5");
  env_->set("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "2");
  transport_->push_error(TransportError(TransportError::Kind::kTimeout, "timeout"));
  transport_->push_response(200, "IMDSTOKEN");
  transport_->push_response(200, "role");
  transport_->push_response(200, kImdsJson);
  EXPECT_EQ(resolve().access_key_id, "ASIAIMDS");
  auto requests = transport_->requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].url, "http://[fd00:ec2::254]/latest/api/token");
  EXPECT_EQ(requests[0].read_timeout, std::chrono::milliseconds(2500));

  env_->set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/");
  transport_->push_response(200, "IMDSTOKEN");
  transport_->push_response(200, "role");
  transport_->push_response(200, kImdsJson);
  (void)resolve();
  EXPECT_EQ(transport_->requests().at(4).url, "http://127.0.0.1:1338/latest/api/token");
}

TEST_F(ChainTest, ImdsV1FallbackWhenTokensAreUnsupported) {
  transport_->push_response(404, "");
  transport_->push_response(200, "role");
  transport_->push_response(200, kImdsJson);
  EXPECT_EQ(resolve().access_key_id, "ASIAIMDS");
  EXPECT_FALSE(transport_->requests().at(1).headers.contains("X-aws-ec2-metadata-token"));
}

TEST_F(ChainTest, ImdsDisabled) {
  env_->set("AWS_EC2_METADATA_DISABLED", "TRUE");
  (void)error_of<CredentialsError>();
  EXPECT_EQ(transport_->request_count(), 0u);
}

TEST_F(ChainTest, ImdsAbsentOrBrokenIsJustNoCredentials) {
  transport_->push_response(200, "IMDSTOKEN");
  transport_->push_response(404, "");  // no role attached
  EXPECT_NE(error_of<CredentialsError>().find("Unable to locate"), std::string::npos);
  transport_->push_response(200, "IMDSTOKEN");
  transport_->push_response(200, "role");
  transport_->push_response(200, "not json SECRETimds");
  EXPECT_NE(error_of<CredentialsError>().find("Unable to locate"), std::string::npos);
}

// --- caching -----------------------------------------------------------------------------------

class ScriptedProvider final : public CredentialsProvider {
 public:
  explicit ScriptedProvider(std::shared_ptr<FakeClock> clock) : clock_(std::move(clock)) {}
  std::optional<Credentials> resolve() override {
    const int n = ++calls;
    if (fail) throw CredentialsError("refresh failed");
    Credentials credentials;
    credentials.access_key_id = "ASIA" + std::to_string(n);
    credentials.secret_access_key = Secret("s");
    credentials.expiration = clock_->now() + 60min;
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
    return credentials;
  }
  [[nodiscard]] std::string name() const override { return "scripted"; }

  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  std::chrono::milliseconds pause{0};

 private:
  std::shared_ptr<FakeClock> clock_;
};

TEST_F(ChainTest, CacheRefreshesInTheAdvisoryAndMandatoryWindows) {
  auto inner = std::make_shared<ScriptedProvider>(clock_);
  CachingProvider cache(inner, clock_);
  EXPECT_EQ(cache.resolve()->access_key_id, "ASIA1");
  clock_->advance(30min);
  EXPECT_EQ(cache.resolve()->access_key_id, "ASIA1");
  EXPECT_EQ(inner->calls, 1);

  // 14 minutes left: advisory. A failed refresh keeps the old credentials.
  clock_->advance(16min);
  inner->fail = true;
  EXPECT_EQ(cache.resolve()->access_key_id, "ASIA1");
  EXPECT_EQ(inner->calls, 2);
  // 9 minutes left: mandatory. The failure is now the caller's.
  clock_->advance(5min);
  EXPECT_THROW((void)cache.resolve(), CredentialsError);
  inner->fail = false;
  EXPECT_EQ(cache.resolve()->access_key_id, "ASIA4");
  EXPECT_EQ(cache.resolve()->access_key_id, "ASIA4");
  EXPECT_EQ(inner->calls, 4);
}

TEST_F(ChainTest, CacheRefreshesOnceForConcurrentCallers) {
  auto inner = std::make_shared<ScriptedProvider>(clock_);
  inner->pause = 50ms;
  CachingProvider cache(inner, clock_);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (cache.resolve()) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(inner->calls, 1);
}

TEST_F(ChainTest, LongTermCredentialsAreResolvedOnce) {
  credentials("[default]\naws_access_key_id = AKIDP\naws_secret_access_key = SECRETprofile\n");
  auto chain = make_default_credentials_chain(context(), std::nullopt);
  EXPECT_EQ(chain->resolve()->access_key_id, "AKIDP");
  credentials("[default]\naws_access_key_id = AKIDCHANGED\naws_secret_access_key = x\n");
  clock_->advance(24h);
  EXPECT_EQ(chain->resolve()->access_key_id, "AKIDP");
}

TEST_F(ChainTest, ExpiringEnvironmentCredentialsAreReread) {
  env_->set("AWS_ACCESS_KEY_ID", "AKIDOLD");
  env_->set("AWS_SECRET_ACCESS_KEY", "SECRETenv");
  env_->set("AWS_CREDENTIAL_EXPIRATION", "2024-01-01T00:20:00Z");
  auto chain = make_default_credentials_chain(context(), std::nullopt);
  EXPECT_EQ(chain->resolve()->access_key_id, "AKIDOLD");
  env_->set("AWS_ACCESS_KEY_ID", "AKIDNEW");
  env_->set("AWS_CREDENTIAL_EXPIRATION", "2024-01-01T02:00:00Z");
  clock_->advance(11min);
  EXPECT_EQ(chain->resolve()->access_key_id, "AKIDNEW");
}

}  // namespace
}  // namespace dagster_dms::aws
