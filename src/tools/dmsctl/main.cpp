// dmsctl: AWS Database Migration Service from the command line, through the same core that the
// dagster_dms package uses.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <string>

#include "aws/errors.hpp"
#include "commands.hpp"
#include "dagster_dms/version.hpp"
#include "exit_codes.hpp"
#include "output.hpp"

namespace dagster_dms::dmsctl {
namespace {

constexpr const char* kFooter = R"(Exit codes:
  0  success
  1  AWS/API error (also credentials, connection and configuration errors)
  2  usage error (bad option, bad regular expression, bad --type)
  3  a wait timed out
  4  the task or the connection test ended in failure
  130  interrupted (the task is left as it is)

Errors are printed on one stderr line: "dmsctl: <cause>: <details>".
--output json prints one stable JSON document: resources with their AWS API member names
(sensitive values shown as "****"), timestamps as epoch seconds (UTC).)";

void fail_line(const std::string& text) {
  fmt::print(stderr, "dmsctl: {}\n", one_line(text));
}

std::string service_error_line(const aws::ServiceError& e) {
  std::string line = e.code();
  if (!e.aws_message().empty()) line += ": " + e.aws_message();
  line += fmt::format(" ({} {}, HTTP {}", e.service(), e.operation(), e.http_status());
  if (!e.request_id().empty()) line += ", request id " + e.request_id();
  line += ")";
  return line;
}

int run(int argc, char** argv) {
  CommandContext context;
  CLI::App app{"Run and inspect AWS Database Migration Service tasks.", "dmsctl"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("dmsctl ") + kVersion);
  // Global options may come after the subcommand too, as with the AWS CLI.
  app.fallthrough();
  app.require_subcommand(1);

  auto& global = context.global;
  app.add_option("--region", global.region, "AWS region (else AWS_REGION, the profile, ...)");
  app.add_option("--profile", global.profile, "Named profile from the shared config files");
  app.add_option("--endpoint-url", global.endpoint_url,
                 "Endpoint for DMS, CloudWatch and CloudWatch Logs (e.g. a local emulator)");
  app.add_option("--output", global.output, "Output format: table (default) or json")
      ->check(CLI::IsMember({"table", "json"}));
  app.add_flag("--no-verify-ssl", global.no_verify_ssl, "Do not verify TLS certificates");
  app.add_option("--max-attempts", global.max_attempts,
                 "Total attempts per request, including the first (retries on throttling and "
                 "transient errors)")
      ->check(CLI::PositiveNumber);
  // For tests and impatient people: poll every S seconds instead of backing off from 5 to 30 s.
  // Hidden because the default is what AWS's rate limits want. Also DMSCTL_POLL_INTERVAL.
  app.add_option("--poll-interval", global.poll_interval, "Seconds between polls while waiting")
      ->check(CLI::PositiveNumber)
      ->group("");

  add_tasks_commands(app, context);
  add_endpoints_commands(app, context);
  add_instances_commands(app, context);
  add_replications_commands(app, context);
  add_logs_commands(app, context);
  add_metrics_commands(app, context);
  add_events_commands(app, context);
  add_assessments_commands(app, context);
  add_tables_commands(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fail_line(fmt::format("usage: {} (see dmsctl --help)", e.what()));
    return kExitUsage;
  }

  if (!context.action) {
    fail_line("usage: no command given (see dmsctl --help)");
    return kExitUsage;
  }
  try {
    context.action();
    return kExitOk;
  } catch (const CommandFailure& e) {
    fail_line(e.what());
    return e.code();
  } catch (const UsageError& e) {
    fail_line(fmt::format("usage: {}", e.what()));
    return kExitUsage;
  } catch (const aws::ServiceError& e) {
    fail_line(service_error_line(e));
  } catch (const aws::CredentialsError& e) {
    fail_line(fmt::format("credentials: {}", e.what()));
  } catch (const aws::ConfigError& e) {
    fail_line(fmt::format("configuration: {}", e.what()));
  } catch (const aws::TransportError& e) {
    fail_line(fmt::format("connection: {}", e.what()));
  } catch (const aws::ProtocolError& e) {
    fail_line(fmt::format("protocol: {}", e.what()));
  } catch (const std::exception& e) {
    fail_line(fmt::format("error: {}", e.what()));
  }
  return kExitAwsError;
}

}  // namespace

}  // namespace dagster_dms::dmsctl

int main(int argc, char** argv) {
  return dagster_dms::dmsctl::run(argc, argv);
}
