#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "aws/clock.hpp"
#include "aws/credentials.hpp"
#include "aws/environment.hpp"

// Small pieces the credentials providers share: paths, files, timestamps and the JSON shape
// several credential endpoints answer with.
namespace dagster_dms::aws::provider_support {

// The user's home directory: HOME from `env`, else the password database.
std::string home_directory(const Environment& env);
// Expands a leading "~" or "~/" the way Python's os.path.expanduser does.
std::string expand_user(std::string_view path, const Environment& env);

// The whole file, or nullopt when it does not exist. Throws ConfigError when it exists but cannot
// be read (permissions, a directory).
std::optional<std::string> read_file_if_exists(const std::string& path);

// An ISO 8601 / RFC 3339 timestamp as AWS services and caches write it: "2024-01-02T03:04:05Z",
// with optional fractional seconds, "+hh:mm" offsets or a "UTC" suffix. nullopt when unparsable.
std::optional<TimePoint> parse_iso8601(std::string_view text);
std::string format_iso8601(TimePoint time);

std::string trim(std::string_view text);
std::string to_lower(std::string_view text);
bool is_true(const std::optional<std::string>& value);

// Reads a string member of a JSON object; nullopt when absent, null or not a string.
std::optional<std::string> json_string(const nlohmann::json& object, const char* key);

// Credentials from the {AccessKeyId, SecretAccessKey, Token|SessionToken, Expiration} object that
// the container endpoint, IMDS and credential_process answer with. Throws CredentialsError naming
// `source` and the missing field (never a value).
Credentials credentials_from_json(const nlohmann::json& object, const std::string& source,
                                  const std::string& provider_name);

}  // namespace dagster_dms::aws::provider_support
