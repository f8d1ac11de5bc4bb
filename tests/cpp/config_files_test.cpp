#include "aws/config_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "aws/errors.hpp"

namespace dagster_dms::aws {
namespace {

std::string value(const ConfigFiles& files, std::string_view profile, std::string_view key) {
  return files.profile_value(profile, key).value_or("<unset>");
}

TEST(ConfigFiles, ReadsProfilesFromBothFiles) {
  auto files = ConfigFiles::parse(
      "[default]\nregion = us-east-1\n"
      "[profile dev]\nregion=eu-west-1\noutput: json\n"
      "[not-a-profile]\nregion = ap-south-1\n",
      "[default]\naws_access_key_id = AKIDDEFAULT\n"
      "[dev]\naws_access_key_id = AKIDDEV\n");
  EXPECT_EQ(value(files, "default", "region"), "us-east-1");
  EXPECT_EQ(value(files, "default", "aws_access_key_id"), "AKIDDEFAULT");
  EXPECT_EQ(value(files, "dev", "region"), "eu-west-1");
  EXPECT_EQ(value(files, "dev", "output"), "json");
  EXPECT_EQ(value(files, "dev", "aws_access_key_id"), "AKIDDEV");
  // A config-file section without the "profile " prefix is not a profile.
  EXPECT_EQ(files.profile("not-a-profile"), nullptr);
  EXPECT_EQ(files.profile("missing"), nullptr);
}

TEST(ConfigFiles, CredentialsFileWinsPerKey) {
  auto files =
      ConfigFiles::parse("[profile p]\naws_access_key_id = FROMCONFIG\nregion = us-west-2\n",
                         "[p]\naws_access_key_id = FROMCREDS\n");
  EXPECT_EQ(value(files, "p", "aws_access_key_id"), "FROMCREDS");
  EXPECT_EQ(value(files, "p", "region"), "us-west-2");
}

TEST(ConfigFiles, CredentialsFileSectionsAreLiteralProfileNames) {
  auto files = ConfigFiles::parse("", "[profile x]\nk = v\n[y]\nk = w\n");
  EXPECT_EQ(value(files, "profile x", "k"), "v");
  EXPECT_EQ(value(files, "y", "k"), "w");
  EXPECT_EQ(files.profile("x"), nullptr);
}

TEST(ConfigFiles, Comments) {
  auto files = ConfigFiles::parse(
      "# full-line comment\n"
      "; another\n"
      "[profile c]   # comment after a header\n"
      "  # indented comment line\n"
      "a = one ; inline\n"
      "b = two # inline\n"
      "c = pass;word#kept\n"
      "d = http://host/path#frag\n",
      "");
  EXPECT_EQ(value(files, "c", "a"), "one");
  EXPECT_EQ(value(files, "c", "b"), "two");
  EXPECT_EQ(value(files, "c", "c"), "pass;word#kept");
  EXPECT_EQ(value(files, "c", "d"), "http://host/path#frag");
}

TEST(ConfigFiles, KeysAreCaseInsensitiveValuesAndNamesAreNot) {
  auto files = ConfigFiles::parse("[profile MixedCase]\nRegion = EU-West-1\n", "");
  EXPECT_EQ(value(files, "MixedCase", "region"), "EU-West-1");
  EXPECT_EQ(files.profile("mixedcase"), nullptr);
}

TEST(ConfigFiles, WindowsLineEndingsAndWhitespace) {
  auto files = ConfigFiles::parse("[profile w]\r\n  \r\nregion   =   us-east-2   \r\n", "");
  EXPECT_EQ(value(files, "w", "region"), "us-east-2");
}

TEST(ConfigFiles, NestedSubPropertiesAreFlattened) {
  auto files = ConfigFiles::parse(
      "[profile n]\n"
      "s3 =\n"
      "  max_concurrent_requests = 20\n"
      "  addressing_style = path\n"
      "region = us-east-1\n"
      "empty =\n"
      "[services local]\n"
      "dms =\n"
      "  endpoint_url = http://127.0.0.1:4566 ; local\n"
      "cloudwatch =\n"
      "\tendpoint_url = http://127.0.0.1:4567\n"
      "[sso-session corp]\n"
      "sso_start_url = https://corp.awsapps.com/start\n"
      "sso_region = eu-central-1\n",
      "");
  EXPECT_EQ(value(files, "n", "s3.max_concurrent_requests"), "20");
  EXPECT_EQ(value(files, "n", "s3.addressing_style"), "path");
  EXPECT_EQ(files.profile_value("n", "s3"), std::nullopt);
  EXPECT_EQ(value(files, "n", "region"), "us-east-1");
  EXPECT_EQ(value(files, "n", "empty"), "");

  const ConfigSection* services = files.services("local");
  ASSERT_NE(services, nullptr);
  EXPECT_EQ(services->at("dms.endpoint_url"), "http://127.0.0.1:4566");
  EXPECT_EQ(services->at("cloudwatch.endpoint_url"), "http://127.0.0.1:4567");
  EXPECT_EQ(files.profile("local"), nullptr);

  const ConfigSection* session = files.sso_session("corp");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(session->at("sso_region"), "eu-central-1");
  EXPECT_EQ(files.services("corp"), nullptr);
}

TEST(ConfigFiles, ContinuationLinesJoinTheValue) {
  auto files = ConfigFiles::parse("[profile m]\nlist = a\n  b\n", "");
  EXPECT_EQ(value(files, "m", "list"), "a\nb");
}

TEST(ConfigFiles, ProfileDefaultRefinesDefault) {
  auto files =
      ConfigFiles::parse("[profile default]\nregion = b\n[default]\nregion = a\nx = 1\n", "");
  EXPECT_EQ(value(files, "default", "region"), "b");
  EXPECT_EQ(value(files, "default", "x"), "1");
}

TEST(ConfigFiles, QuotedProfileName) {
  auto files = ConfigFiles::parse("[profile \"quoted\"]\nregion = r\n", "");
  EXPECT_EQ(value(files, "quoted", "region"), "r");
}

void expect_parse_error(std::string_view config, std::string_view credentials,
                        std::string_view file, int line, std::string_view secret) {
  try {
    (void)ConfigFiles::parse(config, credentials);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(std::string(file)), std::string::npos) << message;
    EXPECT_NE(message.find("line " + std::to_string(line)), std::string::npos) << message;
    EXPECT_EQ(message.find(std::string(secret)), std::string::npos) << message;
  }
}

TEST(ConfigFiles, MalformedLinesNameFileAndLineButNotTheValue) {
  expect_parse_error("[default]\nregion = x\nwJalrXUtnFEMI/K7MDENG\n", "", "config", 3,
                     "wJalrXUtnFEMI");
  expect_parse_error("", "[default]\n\naws_secret_access_key wJalrXUtnFEMI\n", "credentials", 3,
                     "wJalrXUtnFEMI");
  expect_parse_error("aws_secret_access_key = wJalrXUtnFEMI\n", "", "config", 1, "wJalrXUtnFEMI");
  expect_parse_error("[default\n", "", "config", 1, "zzz-no-secret");
  expect_parse_error("[profile n]\ns3 =\n  wJalrXUtnFEMI\n", "", "config", 3, "wJalrXUtnFEMI");
  expect_parse_error("[profile n]\n = wJalrXUtnFEMI\n", "", "config", 2, "wJalrXUtnFEMI");
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cfgtest-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  void write(const std::string& relative, const std::string& content) const {
    auto file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << content;
  }

 private:
  std::filesystem::path path_;
};

TEST(ConfigFiles, LoadsDefaultLocationsUnderHome) {
  TempDir home;
  home.write(".aws/config", "[profile a]\nregion = eu-north-1\n");
  home.write(".aws/credentials", "[a]\naws_access_key_id = AKIDA\n");
  MapEnvironment env({{"HOME", home.path().string()}});
  auto files = ConfigFiles::load(env);
  EXPECT_EQ(value(files, "a", "region"), "eu-north-1");
  EXPECT_EQ(value(files, "a", "aws_access_key_id"), "AKIDA");
}

TEST(ConfigFiles, EnvironmentOverridesPathsWithTildeExpansion) {
  TempDir home;
  home.write("custom/cfg", "[profile b]\nregion = sa-east-1\n");
  home.write("custom/creds", "[b]\naws_access_key_id = AKIDB\n");
  home.write(".aws/config", "[profile ignored]\n");
  MapEnvironment env({{"HOME", home.path().string()},
                      {"AWS_CONFIG_FILE", "~/custom/cfg"},
                      {"AWS_SHARED_CREDENTIALS_FILE", (home.path() / "custom/creds").string()}});
  auto files = ConfigFiles::load(env);
  EXPECT_EQ(value(files, "b", "region"), "sa-east-1");
  EXPECT_EQ(value(files, "b", "aws_access_key_id"), "AKIDB");
  EXPECT_EQ(files.profile("ignored"), nullptr);
}

TEST(ConfigFiles, MissingFilesAreEmpty) {
  TempDir home;
  MapEnvironment env({{"HOME", home.path().string()}});
  auto files = ConfigFiles::load(env);
  EXPECT_EQ(files.profile("default"), nullptr);
}

TEST(ConfigFiles, LoadErrorsNameThePath) {
  TempDir home;
  home.write(".aws/credentials", "[default]\naws_secret_access_key\n");
  MapEnvironment env({{"HOME", home.path().string()}});
  try {
    (void)ConfigFiles::load(env);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find((home.path() / ".aws/credentials").string()), std::string::npos)
        << message;
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  }
}

TEST(ConfigFiles, DirectoryInPlaceOfFileIsAnError) {
  TempDir home;
  std::filesystem::create_directories(home.path() / ".aws/config");
  MapEnvironment env({{"HOME", home.path().string()}});
  EXPECT_THROW((void)ConfigFiles::load(env), ConfigError);
}

}  // namespace
}  // namespace dagster_dms::aws
