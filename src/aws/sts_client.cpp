#include "aws/sts_client.hpp"

#include <fmt/format.h>
#include <tinyxml2.h>

#include <array>

#include "aws/endpoints.hpp"
#include "aws/errors.hpp"
#include "aws/provider_support.hpp"
#include "aws/service_info.hpp"
#include "aws/sigv4.hpp"
#include "aws/url.hpp"

namespace dagster_dms::aws {

namespace {

constexpr int kMaxAttempts = 3;
constexpr std::chrono::milliseconds kBaseDelay{200};

std::string form_field(std::string_view name, std::string_view value) {
  return fmt::format("&{}={}", name, uri_encode(value, true));
}

const tinyxml2::XMLElement* child(const tinyxml2::XMLNode* node, const char* name) {
  return node == nullptr ? nullptr : node->FirstChildElement(name);
}

std::string text_of(const tinyxml2::XMLElement* element) {
  if (element == nullptr || element->GetText() == nullptr) return {};
  return element->GetText();
}

struct StsFailure {
  std::string code;
  std::string message;
};

StsFailure parse_error(const std::string& body) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(body.data(), body.size()) != tinyxml2::XML_SUCCESS) return {};
  const auto* error = child(child(&doc, "ErrorResponse"), "Error");
  return {text_of(child(error, "Code")), text_of(child(error, "Message"))};
}

bool retryable_code(const std::string& code) {
  static constexpr std::array<std::string_view, 5> kCodes = {
      "Throttling", "ThrottlingException", "RequestLimitExceeded", "IDPCommunicationError",
      "ServiceUnavailable"};
  for (auto candidate : kCodes) {
    if (code == candidate) return true;
  }
  return false;
}

}  // namespace

StsClient::StsClient(std::shared_ptr<Transport> transport, std::shared_ptr<Clock> clock,
                     std::string endpoint, std::string region)
    : transport_(std::move(transport)),
      clock_(std::move(clock)),
      endpoint_(std::move(endpoint)),
      region_(std::move(region)) {}

std::string StsClient::resolve_endpoint(const Environment& env, const ConfigFiles* config,
                                        const std::string& profile, const std::string& region) {
  EndpointContext context;
  context.env = &env;
  context.config = config;
  context.profile = profile;
  context.region = region.empty() ? "us-east-1" : region;
  return aws::resolve_endpoint(sts_service(), context);
}

Credentials StsClient::assume_role(const Credentials& source, const AssumeRoleParams& params) {
  std::string form = "Action=AssumeRole&Version=2011-06-15";
  form += form_field("RoleArn", params.role_arn);
  form += form_field("RoleSessionName", params.role_session_name);
  if (params.external_id) form += form_field("ExternalId", *params.external_id);
  if (params.duration_seconds) {
    form += form_field("DurationSeconds", std::to_string(*params.duration_seconds));
  }
  auto credentials = call("AssumeRole", form, &source, params.role_arn);
  credentials.provider = "assume-role";
  return credentials;
}

Credentials StsClient::assume_role_with_web_identity(const AssumeRoleParams& params,
                                                     const Secret& web_identity_token) {
  std::string form = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15";
  form += form_field("RoleArn", params.role_arn);
  form += form_field("RoleSessionName", params.role_session_name);
  form += form_field("WebIdentityToken", web_identity_token.reveal());
  if (params.duration_seconds) {
    form += form_field("DurationSeconds", std::to_string(*params.duration_seconds));
  }
  auto credentials = call("AssumeRoleWithWebIdentity", form, nullptr, params.role_arn);
  credentials.provider = "assume-role-with-web-identity";
  return credentials;
}

Credentials StsClient::call(const std::string& action, const std::string& form,
                            const Credentials* signing_credentials, const std::string& role_arn) {
  auto endpoint_url = parse_url(endpoint_);
  if (!endpoint_url || (endpoint_url->scheme != "https" && endpoint_url->scheme != "http")) {
    throw ConfigError(fmt::format("The STS endpoint {} is not an http(s) URL", endpoint_));
  }
  std::string url = endpoint_;
  if (endpoint_url->path.empty()) url += "/";

  for (int attempt = 1;; ++attempt) {
    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.headers.set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    request.body = form;
    if (signing_credentials != nullptr) {
      SigningParams signing;
      signing.region = region_.empty() ? "us-east-1" : region_;
      signing.service = "sts";
      signing.time = clock_->now();
      sign_request(request, *signing_credentials, signing);
    }

    HttpResponse response;
    try {
      response = transport_->send(request);
    } catch (const TransportError& error) {
      if (attempt < kMaxAttempts) {
        clock_->sleep_for(kBaseDelay * (1 << (attempt - 1)));
        continue;
      }
      throw CredentialsError(fmt::format("Could not reach STS at {} to assume role {}: {}",
                                         endpoint_, role_arn, error.what()));
    }

    if (response.status >= 200 && response.status < 300) {
      tinyxml2::XMLDocument doc;
      if (doc.Parse(response.body.data(), response.body.size()) != tinyxml2::XML_SUCCESS) {
        throw CredentialsError(
            fmt::format("STS {} for role {} answered with unreadable XML", action, role_arn));
      }
      const auto* result =
          child(child(&doc, (action + "Response").c_str()), (action + "Result").c_str());
      const auto* xml_credentials = child(result, "Credentials");
      Credentials credentials;
      credentials.access_key_id = text_of(child(xml_credentials, "AccessKeyId"));
      credentials.secret_access_key = Secret(text_of(child(xml_credentials, "SecretAccessKey")));
      credentials.session_token = Secret(text_of(child(xml_credentials, "SessionToken")));
      credentials.expiration =
          provider_support::parse_iso8601(text_of(child(xml_credentials, "Expiration")));
      if (credentials.access_key_id.empty() || credentials.secret_access_key.empty() ||
          credentials.session_token.empty() || !credentials.expiration) {
        throw CredentialsError(fmt::format(
            "STS {} for role {} answered without complete credentials", action, role_arn));
      }
      return credentials;
    }

    const auto failure = parse_error(response.body);
    if ((response.status >= 500 || retryable_code(failure.code)) && attempt < kMaxAttempts) {
      clock_->sleep_for(kBaseDelay * (1 << (attempt - 1)));
      continue;
    }
    throw CredentialsError(
        fmt::format("STS {} failed for role {}: {} (HTTP {}){}{}", action, role_arn,
                    failure.code.empty() ? "unknown error" : failure.code, response.status,
                    failure.message.empty() ? "" : ": ", failure.message));
  }
}

}  // namespace dagster_dms::aws
