#include "aws/container_provider.hpp"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>

#include "aws/errors.hpp"
#include "aws/provider_support.hpp"
#include "aws/url.hpp"

namespace dagster_dms::aws {

namespace {

constexpr const char* kEcsHost = "http://169.254.170.2";
constexpr int kAttempts = 3;
constexpr std::chrono::seconds kTimeout{2};
constexpr std::chrono::seconds kRetryPause{1};

bool is_loopback(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8, written as a dotted quad.
  if (!host.starts_with("127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

bool allowed_full_uri(const Url& url) {
  if (url.scheme == "https") return true;
  if (url.scheme != "http") return false;
  std::string host = url.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  static constexpr std::array<std::string_view, 3> kAllowed = {"169.254.170.2", "169.254.170.23",
                                                               "fd00:ec2::23"};
  for (auto allowed : kAllowed) {
    if (host == allowed) return true;
  }
  return is_loopback(host);
}

}  // namespace

std::optional<Credentials> ContainerProvider::resolve() {
  const Environment& env = *context_.env;
  std::string url;
  if (auto relative = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = std::string(kEcsHost) + (relative->starts_with('/') ? "" : "/") + *relative;
  } else if (auto full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    auto parsed = parse_url(*full);
    if (!parsed || !allowed_full_uri(*parsed)) {
      throw CredentialsError(fmt::format(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI ({}) must use https, or http to a loopback address, "
          "169.254.170.2, 169.254.170.23 or fd00:ec2::23",
          *full));
    }
    url = *full;
  } else {
    return std::nullopt;
  }

  HttpRequest request;
  request.method = "GET";
  request.url = url;
  request.headers.set("Accept", "application/json");
  request.connect_timeout = kTimeout;
  request.read_timeout = kTimeout;
  std::optional<std::string> token;
  if (auto token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    std::optional<std::string> content;
    try {
      content = provider_support::read_file_if_exists(*token_file);
    } catch (const ConfigError&) {
      content.reset();
    }
    if (!content) {
      throw CredentialsError(
          fmt::format("Cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ({})", *token_file));
    }
    token = provider_support::trim(*content);
  } else {
    token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token) {
    if (token->find_first_of("\r\n") != std::string::npos) {
      throw CredentialsError("The container authorization token is not a legal header value");
    }
    request.headers.set("Authorization", *token);
  }

  std::string last_failure;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    if (attempt > 1) context_.clock->sleep_for(kRetryPause);
    HttpResponse response;
    try {
      response = context_.transport->send(request);
    } catch (const TransportError& error) {
      last_failure = error.what();
      continue;
    }
    if (response.status != 200) {
      last_failure = fmt::format("HTTP {}", response.status);
      // A 4xx will not change by asking again.
      if (response.status >= 400 && response.status < 500) break;
      continue;
    }
    auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    return provider_support::credentials_from_json(body, "The container credentials endpoint",
                                                   name());
  }
  throw CredentialsError(
      fmt::format("Error retrieving credentials from the container credentials endpoint {}: {}",
                  url, last_failure));
}

}  // namespace dagster_dms::aws
