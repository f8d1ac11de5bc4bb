#include "aws/imds_provider.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "aws/errors.hpp"
#include "aws/provider_support.hpp"

namespace dagster_dms::aws {

namespace {

constexpr const char* kIpv4Endpoint = "http://169.254.169.254";
constexpr const char* kIpv6Endpoint = "http://[fd00:ec2::254]";
constexpr const char* kTokenPath = "/latest/api/token";
constexpr const char* kRolePath = "/latest/meta-data/iam/security-credentials/";
constexpr const char* kTokenTtlSeconds = "21600";

enum class Outcome { kOk, kRefused, kFailed };

struct Answer {
  Outcome outcome = Outcome::kFailed;
  long status = 0;
  std::string body;
};

}  // namespace

ImdsProvider::ImdsProvider(const ChainContext& context, std::string profile_name)
    : context_(context), profile_(std::move(profile_name)) {}

std::optional<std::string> ImdsProvider::setting(std::string_view env_name,
                                                 std::string_view profile_key) const {
  if (auto value = context_.env->get(env_name)) return value;
  if (!context_.config) return std::nullopt;
  auto value = context_.config->profile_value(profile_, profile_key);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string ImdsProvider::endpoint() const {
  std::string base;
  if (auto configured =
          setting("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint")) {
    base = *configured;
  } else {
    const std::string mode = provider_support::to_lower(
        setting("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode")
            .value_or("ipv4"));
    if (mode == "ipv4") {
      base = kIpv4Endpoint;
    } else if (mode == "ipv6") {
      base = kIpv6Endpoint;
    } else {
      throw ConfigError(
          "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE (ec2_metadata_service_endpoint_mode) must be "
          "IPv4 or IPv6");
    }
  }
  while (base.ends_with('/')) base.pop_back();
  return base;
}

std::optional<Credentials> ImdsProvider::resolve() {
  if (provider_support::is_true(context_.env->get("AWS_EC2_METADATA_DISABLED"))) {
    return std::nullopt;
  }
  const std::string base = endpoint();

  std::chrono::milliseconds timeout{1000};
  if (auto text = setting("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout")) {
    try {
      timeout = std::chrono::milliseconds(static_cast<long long>(std::stod(*text) * 1000));
    } catch (const std::exception&) {
      throw ConfigError("AWS_METADATA_SERVICE_TIMEOUT (metadata_service_timeout) must be seconds");
    }
  }
  int attempts = 1;
  if (auto text = setting("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts")) {
    try {
      attempts = std::max(1, std::stoi(*text));
    } catch (const std::exception&) {
      throw ConfigError(
          "AWS_METADATA_SERVICE_NUM_ATTEMPTS (metadata_service_num_attempts) must be a number");
    }
  }

  // One request with IMDS's retry rule: connection failures and 5xx are tried again.
  auto fetch = [&](const std::string& method, const std::string& path, const HttpHeaders& headers) {
    Answer answer;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      HttpRequest request;
      request.method = method;
      request.url = base + path;
      request.headers = headers;
      request.connect_timeout = timeout;
      request.read_timeout = timeout;
      try {
        HttpResponse response = context_.transport->send(request);
        answer.status = response.status;
        answer.body = std::move(response.body);
        if (response.status == 200) {
          answer.outcome = Outcome::kOk;
          return answer;
        }
        answer.outcome = response.status >= 500 ? Outcome::kFailed : Outcome::kRefused;
        if (answer.outcome == Outcome::kRefused) return answer;
      } catch (const TransportError&) {
        answer.outcome = Outcome::kFailed;
        answer.status = 0;
      }
    }
    return answer;
  };

  HttpHeaders token_headers;
  token_headers.set("X-aws-ec2-metadata-token-ttl-seconds", kTokenTtlSeconds);
  Answer token = fetch("PUT", kTokenPath, token_headers);
  HttpHeaders headers;
  if (token.outcome == Outcome::kOk) {
    headers.set("X-aws-ec2-metadata-token", provider_support::trim(token.body));
  } else if (token.outcome == Outcome::kRefused &&
             (token.status == 403 || token.status == 404 || token.status == 405) &&
             !provider_support::is_true(
                 setting("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled"))) {
    // An IMDS that predates tokens, or a hop limit the PUT cannot cross: IMDSv1 as botocore does.
  } else {
    return std::nullopt;
  }

  Answer role = fetch("GET", kRolePath, headers);
  if (role.outcome != Outcome::kOk) return std::nullopt;
  std::string role_name = provider_support::trim(role.body);
  if (auto newline = role_name.find('\n'); newline != std::string::npos) {
    role_name = provider_support::trim(role_name.substr(0, newline));
  }
  if (role_name.empty()) return std::nullopt;

  Answer credentials_answer = fetch("GET", kRolePath + role_name, headers);
  if (credentials_answer.outcome != Outcome::kOk) return std::nullopt;
  auto body = nlohmann::json::parse(credentials_answer.body, nullptr, /*allow_exceptions=*/false);
  if (auto code = provider_support::json_string(body, "Code"); code && *code != "Success") {
    return std::nullopt;
  }
  try {
    return provider_support::credentials_from_json(body, "IMDS", name());
  } catch (const CredentialsError&) {
    return std::nullopt;
  }
}

}  // namespace dagster_dms::aws
