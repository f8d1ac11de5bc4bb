#include "aws/endpoints.hpp"

#include <algorithm>
#include <cctype>

#include "aws/errors.hpp"
#include "aws/url.hpp"

namespace dagster_dms::aws {

namespace {

bool is_true(std::optional<std::string> value) {
  if (!value) return false;
  std::string text = *value;
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text == "true";
}

std::string checked(std::string url, std::string_view source) {
  validate_endpoint_url(url, source);
  return url;
}

}  // namespace

void validate_endpoint_url(std::string_view url, std::string_view source) {
  const auto parsed = parse_url(url);
  if (!parsed) {
    throw ConfigError(std::string(source) + " is not a valid endpoint URL: '" + std::string(url) +
                      "' (expected http://host[:port] or https://host[:port])");
  }
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    throw ConfigError(std::string(source) + " has an unsupported scheme '" + parsed->scheme +
                      "' in '" + std::string(url) + "' (use http or https)");
  }
}

std::string default_endpoint(const ServiceInfo& service, std::string_view region) {
  const bool china = region.substr(0, 3) == "cn-";
  return "https://" + service.endpoint_prefix + "." + std::string(region) +
         (china ? ".amazonaws.com.cn" : ".amazonaws.com");
}

std::string resolve_endpoint(const ServiceInfo& service, const EndpointContext& context) {
  if (context.explicit_endpoint && service.follows_explicit_endpoint) {
    return checked(*context.explicit_endpoint, "endpoint_url");
  }

  const auto* config = context.config;
  const auto profile_value = [&](std::string_view key) -> std::optional<std::string> {
    if (config == nullptr) return std::nullopt;
    return config->profile_value(context.profile, key);
  };

  const bool ignore_configured =
      (context.env != nullptr && context.env->get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
           ? is_true(context.env->get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
           : is_true(profile_value("ignore_configured_endpoint_urls")));

  if (!ignore_configured) {
    if (context.env != nullptr) {
      const std::string specific = "AWS_ENDPOINT_URL_" + service.env_suffix;
      if (auto value = context.env->get(specific)) return checked(*value, specific);
      if (auto value = context.env->get("AWS_ENDPOINT_URL")) {
        return checked(*value, "AWS_ENDPOINT_URL");
      }
    }
    if (auto services_name = profile_value("services")) {
      if (const auto* section = config->services(*services_name)) {
        const std::string key = service.config_key + ".endpoint_url";
        if (const auto it = section->find(key); it != section->end() && !it->second.empty()) {
          return checked(it->second, "[services " + *services_name + "] " + key);
        }
      }
    }
    if (auto value = profile_value("endpoint_url")) {
      return checked(*value, "endpoint_url in profile '" + context.profile + "'");
    }
  }
  return default_endpoint(service, context.region);
}

}  // namespace dagster_dms::aws
