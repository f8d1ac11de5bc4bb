#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/environment.hpp"

namespace dagster_dms::aws {

using ConfigSection = std::map<std::string, std::string, std::less<>>;

// The shared AWS config and credentials files (~/.aws/config, ~/.aws/credentials, or
// AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), parsed the way the AWS CLI reads them:
// `[profile NAME]` and `[default]` in config, `[NAME]` in credentials (credentials win per key),
// `[sso-session NAME]` and `[services NAME]` sections, and indented sub-properties
// (`dms =\n  endpoint_url = ...`) flattened to "dms.endpoint_url".
class ConfigFiles {
 public:
  // Missing files are simply empty; an unreadable or malformed file throws ConfigError naming it.
  static ConfigFiles load(const Environment& env);
  static ConfigFiles parse(std::string_view config_text, std::string_view credentials_text);

  [[nodiscard]] const ConfigSection* profile(std::string_view name) const;
  [[nodiscard]] const ConfigSection* sso_session(std::string_view name) const;
  [[nodiscard]] const ConfigSection* services(std::string_view name) const;
  [[nodiscard]] std::optional<std::string> profile_value(std::string_view profile,
                                                         std::string_view key) const;

 private:
  std::map<std::string, ConfigSection, std::less<>> profiles_;
  std::map<std::string, ConfigSection, std::less<>> sso_sessions_;
  std::map<std::string, ConfigSection, std::less<>> services_;
};

}  // namespace dagster_dms::aws
