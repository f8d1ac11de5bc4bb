#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "aws/client_options.hpp"
#include "aws/session.hpp"
#include "dms/cloudwatch_client.hpp"
#include "dms/dms_client.hpp"
#include "dms/logs_client.hpp"

namespace dagster_dms::dmsctl {

// The options every command shares, named as the AWS CLI names them.
struct GlobalOptions {
  std::optional<std::string> region;
  std::optional<std::string> profile;
  std::optional<std::string> endpoint_url;
  std::string output = "table";
  bool no_verify_ssl = false;
  std::optional<int> max_attempts;
  // Seconds between polls of a wait; unset means the task runner's backoff (5 s growing to 30 s).
  std::optional<double> poll_interval;
};

// Turns the global options into aws::ClientOptions (anything unset is left to the environment and
// the shared config files, exactly as boto3 would resolve it).
aws::ClientOptions to_client_options(const GlobalOptions& options);

// The poll interval from --poll-interval, else DMSCTL_POLL_INTERVAL; nullopt when neither is set.
// Throws UsageError for a value that is not a positive number of seconds.
std::optional<std::chrono::milliseconds> poll_interval(const GlobalOptions& options);

// Builds the session once, on first use, and the clients over it. Commands that fail before they
// need AWS (usage errors) never resolve credentials or configuration.
class ClientFactory {
 public:
  explicit ClientFactory(const GlobalOptions& options) : options_(options) {}

  aws::Session& session();
  dms::DmsClient& dms();
  dms::CloudWatchClient& cloudwatch();
  dms::LogsClient& logs();

 private:
  std::shared_ptr<aws::Session> shared_session();

  const GlobalOptions& options_;
  std::shared_ptr<aws::Session> session_;
  std::unique_ptr<dms::DmsClient> dms_;
  std::unique_ptr<dms::CloudWatchClient> cloudwatch_;
  std::unique_ptr<dms::LogsClient> logs_;
};

}  // namespace dagster_dms::dmsctl
