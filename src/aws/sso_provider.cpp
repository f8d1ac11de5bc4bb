#include "aws/sso_provider.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "aws/endpoints.hpp"
#include "aws/errors.hpp"
#include "aws/provider_support.hpp"
#include "aws/service_info.hpp"
#include "aws/url.hpp"

namespace dagster_dms::aws {

namespace {

struct SsoSettings {
  std::string start_url;
  std::string region;
  std::string account_id;
  std::string role_name;
  std::string cache_key;  // session name, or the start URL for legacy profiles
};

std::string login_hint(const std::string& profile) {
  return fmt::format("run `aws sso login --profile {}`", profile);
}

std::optional<std::string> value_of(const ConfigSection& section, std::string_view key) {
  auto it = section.find(key);
  if (it == section.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

SsoSettings load_settings(const ConfigFiles& config, const ConfigSection& profile,
                          const std::string& profile_name) {
  SsoSettings settings;
  std::vector<std::string> missing;
  if (auto session_name = value_of(profile, "sso_session")) {
    const ConfigSection* session = config.sso_session(*session_name);
    if (session == nullptr) {
      throw ConfigError(fmt::format(
          "The profile \"{}\" is configured to use the SSO token provider but the \"{}\" "
          "sso-session does not exist",
          profile_name, *session_name));
    }
    // The session owns these; a profile that repeats them must agree with it.
    for (const char* key : {"sso_start_url", "sso_region"}) {
      auto in_profile = value_of(profile, key);
      auto in_session = value_of(*session, key);
      if (in_profile && in_session && *in_profile != *in_session) {
        throw ConfigError(fmt::format(
            "The value for {} in profile \"{}\" does not match the value in sso-session \"{}\"",
            key, profile_name, *session_name));
      }
    }
    auto start_url = value_of(*session, "sso_start_url");
    auto region = value_of(*session, "sso_region");
    if (!start_url) missing.emplace_back("sso_start_url");
    if (!region) missing.emplace_back("sso_region");
    settings.start_url = start_url.value_or("");
    settings.region = region.value_or("");
    settings.cache_key = *session_name;
  } else {
    auto start_url = value_of(profile, "sso_start_url");
    auto region = value_of(profile, "sso_region");
    if (!start_url) missing.emplace_back("sso_start_url");
    if (!region) missing.emplace_back("sso_region");
    settings.start_url = start_url.value_or("");
    settings.region = region.value_or("");
    settings.cache_key = settings.start_url;
  }
  auto account_id = value_of(profile, "sso_account_id");
  auto role_name = value_of(profile, "sso_role_name");
  if (!account_id) missing.emplace_back("sso_account_id");
  if (!role_name) missing.emplace_back("sso_role_name");
  if (!missing.empty()) {
    throw ConfigError(fmt::format(
        "The profile \"{}\" is configured to use SSO but is missing required configuration: {}",
        profile_name, fmt::join(missing, ", ")));
  }
  settings.account_id = *account_id;
  settings.role_name = *role_name;
  return settings;
}

// The portal follows the session's endpoint rule (AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL, the
// profile's services section) so a local stand-in can answer it.
std::string portal_endpoint(const ChainContext& context, const std::string& profile,
                            const std::string& region) {
  static const ServiceInfo kPortal{"SSO", "awsssoportal", "portal.sso", "SSO", "sso", "",
                                   "",    false};
  EndpointContext endpoint_context;
  endpoint_context.env = context.env.get();
  endpoint_context.config = context.config.get();
  endpoint_context.profile = context.profile.value_or(profile);
  endpoint_context.region = region;
  return resolve_endpoint(kPortal, endpoint_context);
}

}  // namespace

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) {
    throw Error("SHA-1 digest failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0F]);
  }
  return out;
}

SsoProvider::SsoProvider(const ChainContext& context, std::string profile_name)
    : context_(context), profile_(std::move(profile_name)) {}

bool SsoProvider::configured(const ConfigSection& profile) {
  for (const char* key : {"sso_session", "sso_start_url", "sso_account_id", "sso_role_name"}) {
    if (profile.contains(key)) return true;
  }
  return false;
}

std::optional<Credentials> SsoProvider::resolve() {
  const ConfigSection* profile = context_.config->profile(profile_);
  if (profile == nullptr || !configured(*profile)) return std::nullopt;
  const SsoSettings settings = load_settings(*context_.config, *profile, profile_);

  const std::string cache_path =
      fmt::format("{}/.aws/sso/cache/{}.json", provider_support::home_directory(*context_.env),
                  sha1_hex(settings.cache_key));
  std::optional<std::string> cached;
  try {
    cached = provider_support::read_file_if_exists(cache_path);
  } catch (const ConfigError&) {
    cached.reset();
  }
  if (!cached) {
    throw CredentialsError(fmt::format("No SSO token is cached for profile \"{}\" ({}): {}",
                                       profile_, cache_path, login_hint(profile_)));
  }
  auto token_json = nlohmann::json::parse(*cached, nullptr, /*allow_exceptions=*/false);
  auto access_token = provider_support::json_string(token_json, "accessToken");
  auto expires_at = provider_support::json_string(token_json, "expiresAt");
  if (!access_token || !expires_at) {
    throw CredentialsError(
        fmt::format("The cached SSO token for profile \"{}\" ({}) is unreadable: {}", profile_,
                    cache_path, login_hint(profile_)));
  }
  auto expiry = provider_support::parse_iso8601(*expires_at);
  if (!expiry || *expiry <= context_.clock->now()) {
    throw CredentialsError(fmt::format("The SSO session for profile \"{}\" has expired: {}",
                                       profile_, login_hint(profile_)));
  }

  HttpRequest request;
  request.method = "GET";
  std::string endpoint = portal_endpoint(context_, profile_, settings.region);
  while (endpoint.ends_with('/')) endpoint.pop_back();
  request.url =
      fmt::format("{}/federation/credentials?role_name={}&account_id={}", endpoint,
                  uri_encode(settings.role_name, true), uri_encode(settings.account_id, true));
  request.headers.set("x-amz-sso_bearer_token", *access_token);

  HttpResponse response;
  try {
    response = context_.transport->send(request);
  } catch (const TransportError& error) {
    throw CredentialsError(fmt::format("Could not reach the SSO portal for profile \"{}\": {}",
                                       profile_, error.what()));
  }
  if (response.status == 401 || response.status == 403) {
    throw CredentialsError(fmt::format(
        "The SSO session for profile \"{}\" has expired or is otherwise invalid (HTTP {}): {}",
        profile_, response.status, login_hint(profile_)));
  }
  if (response.status < 200 || response.status >= 300) {
    throw CredentialsError(
        fmt::format("The SSO portal refused role {} in account {} for profile \"{}\" (HTTP {})",
                    settings.role_name, settings.account_id, profile_, response.status));
  }
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json* role = nullptr;
  if (body.is_object()) {
    if (auto it = body.find("roleCredentials"); it != body.end() && it->is_object()) role = &*it;
  }
  if (role == nullptr) {
    throw CredentialsError(fmt::format(
        "The SSO portal answered without roleCredentials for profile \"{}\"", profile_));
  }
  auto access_key = provider_support::json_string(*role, "accessKeyId");
  auto secret = provider_support::json_string(*role, "secretAccessKey");
  auto session_token = provider_support::json_string(*role, "sessionToken");
  auto expiration = role->find("expiration");
  if (!access_key || !secret || !session_token || expiration == role->end() ||
      !expiration->is_number()) {
    throw CredentialsError(fmt::format(
        "The SSO portal answered with incomplete roleCredentials for profile \"{}\"", profile_));
  }
  Credentials credentials;
  credentials.access_key_id = *access_key;
  credentials.secret_access_key = Secret(*secret);
  credentials.session_token = Secret(*session_token);
  credentials.expiration = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::milliseconds(expiration->get<std::int64_t>())));
  credentials.provider = name();
  return credentials;
}

}  // namespace dagster_dms::aws
