#include "aws/session.hpp"

#include <cctype>
#include <charconv>
#include <dagster_dms/version.hpp>

#include "aws/credentials_chain.hpp"
#include "aws/curl_transport.hpp"
#include "aws/endpoints.hpp"
#include "aws/errors.hpp"

namespace dagster_dms::aws {

namespace {

constexpr const char* kDefaultProfile = "default";
constexpr int kDefaultMaxAttempts = 3;

// A value and where it came from, so an error can say which setting to fix.
struct Sourced {
  std::string value;
  std::string source;
};

std::optional<Sourced> first_of(std::initializer_list<std::optional<Sourced>> candidates) {
  for (const auto& candidate : candidates) {
    if (candidate && !candidate->value.empty()) return candidate;
  }
  return std::nullopt;
}

std::optional<Sourced> from_env(const Environment& env, const char* name) {
  if (auto value = env.get(name)) return Sourced{*value, name};
  return std::nullopt;
}

std::optional<Sourced> from_profile(const ConfigFiles& config, const std::string& profile,
                                    const char* key) {
  if (auto value = config.profile_value(profile, key)) {
    return Sourced{*value, std::string(key) + " in profile '" + profile + "'"};
  }
  return std::nullopt;
}

std::optional<Sourced> from_option(const std::optional<std::string>& value, const char* name) {
  if (value) return Sourced{*value, name};
  return std::nullopt;
}

// Region names become part of a host name and a signing scope: letters, digits and hyphens only.
void validate_region(const Sourced& region) {
  for (const char ch : region.value) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) == 0 && c != '-') {
      throw ConfigError("Invalid region '" + region.value + "' from " + region.source +
                        ": use a region name such as us-east-1");
    }
  }
}

int parse_max_attempts(const Sourced& text) {
  int value = 0;
  const auto* end = text.value.data() + text.value.size();
  const auto [ptr, ec] = std::from_chars(text.value.data(), end, value);
  if (ec != std::errc{} || ptr != end) {
    throw ConfigError("max_attempts from " + text.source + " is not a whole number: '" +
                      text.value + "'");
  }
  if (value < 1) {
    throw ConfigError("max_attempts from " + text.source + " must be at least 1, got " +
                      text.value);
  }
  return value;
}

}  // namespace

std::shared_ptr<Session> Session::create(const ClientOptions& options,
                                         SessionDependencies dependencies) {
  // The constructor is private so every session goes through this resolution.
  std::shared_ptr<Session> session(new Session());

  session->env_ =
      dependencies.env ? std::move(dependencies.env) : std::make_shared<const ProcessEnvironment>();
  session->clock_ =
      dependencies.clock ? std::move(dependencies.clock) : std::make_shared<SystemClock>();
  const Environment& env = *session->env_;

  // The same order the credentials chain uses, so region and keys come from one profile.
  const auto named_profile =
      first_of({from_option(options.profile, "profile_name"), from_env(env, "AWS_PROFILE"),
                from_env(env, "AWS_DEFAULT_PROFILE")});
  session->profile_ = named_profile ? std::optional(named_profile->value) : std::nullopt;
  const std::string profile = named_profile ? named_profile->value : kDefaultProfile;

  session->config_ = std::make_shared<const ConfigFiles>(ConfigFiles::load(env));
  const ConfigFiles& config = *session->config_;
  if (named_profile && profile != kDefaultProfile && config.profile(profile) == nullptr) {
    throw ConfigError("The config profile (" + profile + ") could not be found (named by " +
                      named_profile->source + ")");
  }

  const auto region =
      first_of({from_option(options.region, "region_name"), from_env(env, "AWS_REGION"),
                from_env(env, "AWS_DEFAULT_REGION"), from_profile(config, profile, "region")});
  if (!region) {
    throw ConfigError(
        "No AWS region: pass region_name / --region, or set AWS_REGION, or `region` in profile " +
        profile);
  }
  validate_region(*region);
  session->region_ = region->value;

  std::optional<Sourced> max_attempts;
  if (options.max_attempts) {
    max_attempts = Sourced{std::to_string(*options.max_attempts), "max_attempts"};
  } else {
    max_attempts = first_of(
        {from_env(env, "AWS_MAX_ATTEMPTS"), from_profile(config, profile, "max_attempts")});
  }
  session->retry_config_.max_attempts =
      max_attempts ? parse_max_attempts(*max_attempts) : kDefaultMaxAttempts;
  if (const auto mode =
          first_of({from_option(options.retry_mode, "retry_mode"), from_env(env, "AWS_RETRY_MODE"),
                    from_profile(config, profile, "retry_mode")})) {
    try {
      session->retry_config_.mode = parse_retry_mode(mode->value);
    } catch (const ConfigError& error) {
      throw ConfigError(std::string(error.what()) + " (from " + mode->source + ")");
    }
  }

  if (dependencies.transport) {
    session->transport_ = std::move(dependencies.transport);
  } else {
    TransportOptions transport_options;
    if (options.connect_timeout) transport_options.connect_timeout = *options.connect_timeout;
    if (options.read_timeout) transport_options.read_timeout = *options.read_timeout;
    transport_options.verify_tls = options.verify_tls;
    if (const auto bundle =
            first_of({from_option(options.ca_bundle, "ca_bundle"), from_env(env, "AWS_CA_BUNDLE"),
                      from_profile(config, profile, "ca_bundle")})) {
      transport_options.ca_bundle = bundle->value;
    }
    transport_options.user_agent = std::string("dagster-dms/") + kVersion;
    session->transport_ = std::make_shared<CurlTransport>(std::move(transport_options));
  }

  std::optional<Credentials> explicit_keys;
  const bool has_secret = options.secret_access_key && !options.secret_access_key->empty();
  const bool has_key_id = options.access_key_id && !options.access_key_id->empty();
  if (has_key_id != has_secret) {
    throw ConfigError(
        "Explicit credentials need both aws_access_key_id and aws_secret_access_key; only " +
        std::string(has_key_id ? "aws_access_key_id" : "aws_secret_access_key") + " was given");
  }
  if (!has_key_id && options.session_token && !options.session_token->empty()) {
    throw ConfigError(
        "aws_session_token was given without aws_access_key_id and aws_secret_access_key");
  }
  if (has_key_id) {
    Credentials keys;
    keys.access_key_id = *options.access_key_id;
    keys.secret_access_key = *options.secret_access_key;
    if (options.session_token) keys.session_token = *options.session_token;
    keys.provider = "explicit";
    explicit_keys = std::move(keys);
  }

  if (options.endpoint_url) {
    validate_endpoint_url(*options.endpoint_url, "endpoint_url");
    session->explicit_endpoint_ = options.endpoint_url;
  }

  ChainContext chain;
  chain.env = session->env_;
  chain.clock = session->clock_;
  chain.config = session->config_;
  chain.transport = session->transport_;
  chain.profile = options.profile;
  chain.region = session->region_;
  // Building the chain reads no credentials: they are fetched on the first call.
  session->credentials_provider_ = make_default_credentials_chain(chain, std::move(explicit_keys));

  // Fail at construction, not at the first call, on a bad configured endpoint URL.
  for (const ServiceInfo* service : {&dms_service(), &cloudwatch_service(), &logs_service()}) {
    (void)session->endpoint_for(*service);
  }
  return session;
}

std::string Session::endpoint_for(const ServiceInfo& service) const {
  EndpointContext context;
  context.env = env_.get();
  context.config = config_.get();
  context.profile = profile_.value_or(kDefaultProfile);
  context.region = region_;
  context.explicit_endpoint = explicit_endpoint_;
  return resolve_endpoint(service, context);
}

Credentials Session::credentials() {
  auto credentials = credentials_provider_->resolve();
  if (!credentials) {
    throw CredentialsError(
        "Unable to locate AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "configure a profile (aws configure), or run where a role is available");
  }
  return std::move(*credentials);
}

}  // namespace dagster_dms::aws
