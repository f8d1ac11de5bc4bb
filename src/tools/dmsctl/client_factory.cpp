#include "client_factory.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "exit_codes.hpp"

namespace dagster_dms::dmsctl {

aws::ClientOptions to_client_options(const GlobalOptions& options) {
  aws::ClientOptions client;
  client.region = options.region;
  client.profile = options.profile;
  client.endpoint_url = options.endpoint_url;
  client.max_attempts = options.max_attempts;
  client.verify_tls = !options.no_verify_ssl;
  return client;
}

std::optional<std::chrono::milliseconds> poll_interval(const GlobalOptions& options) {
  std::optional<double> seconds = options.poll_interval;
  std::string source = "--poll-interval";
  if (!seconds) {
    const char* env = std::getenv("DMSCTL_POLL_INTERVAL");
    if (env == nullptr || *env == '\0') return std::nullopt;
    char* end = nullptr;
    const double value = std::strtod(env, &end);
    if (end == env || *end != '\0') {
      throw UsageError(fmt::format("DMSCTL_POLL_INTERVAL: '{}' is not a number of seconds", env));
    }
    seconds = value;
    source = "DMSCTL_POLL_INTERVAL";
  }
  if (!std::isfinite(*seconds) || *seconds <= 0) {
    throw UsageError(
        fmt::format("{}: the poll interval must be a positive number of seconds", source));
  }
  return std::chrono::milliseconds(std::max<long long>(1, std::llround(*seconds * 1000)));
}

std::shared_ptr<aws::Session> ClientFactory::shared_session() {
  if (!session_) session_ = aws::Session::create(to_client_options(options_));
  return session_;
}

aws::Session& ClientFactory::session() {
  return *shared_session();
}

dms::DmsClient& ClientFactory::dms() {
  if (!dms_) dms_ = std::make_unique<dms::DmsClient>(shared_session());
  return *dms_;
}

dms::CloudWatchClient& ClientFactory::cloudwatch() {
  if (!cloudwatch_) cloudwatch_ = std::make_unique<dms::CloudWatchClient>(shared_session());
  return *cloudwatch_;
}

dms::LogsClient& ClientFactory::logs() {
  if (!logs_) logs_ = std::make_unique<dms::LogsClient>(shared_session());
  return *logs_;
}

}  // namespace dagster_dms::dmsctl
