// dmsctl endpoints: list, test.

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <string>

#include "aws/clock.hpp"
#include "aws/errors.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "filter_options.hpp"
#include "orchestrate/discovery.hpp"
#include "output.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

using std::chrono::milliseconds;

// Connection tests take from seconds to a couple of minutes on AWS; polling every few seconds
// shows the answer soon enough without spending the DMS API's rate limit.
constexpr milliseconds kConnectionPoll{std::chrono::seconds(3)};
constexpr double kDefaultTestTimeoutSeconds = 600;

void list_endpoints(CommandContext& context, const FilterOptions& filters) {
  const orchestrate::ResourceFilter filter = build_filter(filters);
  orchestrate::Discovery discovery(context.clients.dms());
  const auto found = discovery.endpoints(filter);
  for (const auto& warning : found.warnings) warn(warning);
  const bool with_tags = has_tag_filter(filters);
  if (context.json()) {
    nlohmann::json endpoints = nlohmann::json::array();
    for (const auto& item : found.items) {
      nlohmann::json endpoint = dms::to_redacted_json(item.resource);
      if (with_tags) endpoint["Tags"] = tags_json(item.tags);
      endpoints.push_back(std::move(endpoint));
    }
    print_json({{"Endpoints", std::move(endpoints)}});
    return;
  }
  std::vector<std::string> headers = {"IDENTIFIER", "TYPE", "ENGINE",   "STATUS",
                                      "SERVER",     "PORT", "DATABASE", "ARN"};
  if (with_tags) headers.insert(headers.end() - 1, "TAGS");
  Table table(headers);
  for (const auto& item : found.items) {
    const auto& e = item.resource;
    std::vector<std::string> row = {cell(e.endpoint_identifier), cell(e.endpoint_type),
                                    cell(e.engine_name),         cell(e.status),
                                    cell(e.server_name),         cell(e.port),
                                    cell(e.database_name),       cell(e.endpoint_arn)};
    if (with_tags) row.insert(row.end() - 1, tags_cell(item.tags));
    table.add_row(std::move(row));
  }
  table.print();
}

struct TestOptions {
  std::string endpoint;
  std::string instance;
  bool wait = false;
  double timeout_seconds = kDefaultTestTimeoutSeconds;
};

void print_connection(const CommandContext& context, const dms::Connection& connection) {
  if (context.json()) {
    print_json({{"Connection", dms::to_redacted_json(connection)}});
    return;
  }
  Details details;
  details.add("Endpoint", connection.endpoint_identifier);
  details.add("Endpoint ARN", connection.endpoint_arn);
  details.add("Instance", connection.replication_instance_identifier);
  details.add("Instance ARN", connection.replication_instance_arn);
  details.add("Status", connection.status);
  details.add("Last failure", connection.last_failure_message);
  details.print();
}

// The connection's current state, or nullopt when DescribeConnections does not list it yet.
std::optional<dms::Connection> current_connection(dms::DmsClient& client,
                                                  const std::string& endpoint_arn,
                                                  const std::string& instance_arn) {
  dms::DescribeConnectionsMessage request;
  request.filters =
      std::vector<dms::Filter>{dms::Filter{"endpoint-arn", {endpoint_arn}, {}},
                               dms::Filter{"replication-instance-arn", {instance_arn}, {}}};
  try {
    for (auto& connection : client.describe_connections_all(request)) {
      if (connection.endpoint_arn == endpoint_arn &&
          connection.replication_instance_arn == instance_arn) {
        return std::move(connection);
      }
    }
  } catch (const aws::ServiceError& e) {
    if (e.is_access_denied()) {
      throw aws::ServiceError(
          e.service(), e.operation(), e.code(),
          "the test was started, but following it needs the IAM action dms:DescribeConnections; "
          "grant it, or run without --wait and check the connection in the console",
          e.http_status(), e.request_id());
    }
    throw;
  }
  return std::nullopt;
}

void test_endpoint(CommandContext& context, const TestOptions& test) {
  auto& client = context.clients.dms();
  const dms::Endpoint endpoint = find_endpoint(client, test.endpoint);
  const dms::ReplicationInstance instance = find_instance(client, test.instance);
  const std::string endpoint_arn = endpoint.endpoint_arn.value_or(test.endpoint);
  const std::string instance_arn = instance.replication_instance_arn.value_or(test.instance);

  dms::TestConnectionMessage request;
  request.endpoint_arn = endpoint_arn;
  request.replication_instance_arn = instance_arn;
  dms::Connection connection =
      client.test_connection(request).connection.value_or(dms::Connection{});

  if (test.wait) {
    if (test.timeout_seconds <= 0)
      throw UsageError("--timeout must be a positive number of seconds");
    const milliseconds interval = poll_interval(context.global).value_or(kConnectionPoll);
    const auto timeout = milliseconds(static_cast<long long>(test.timeout_seconds * 1000));
    aws::SystemClock clock;
    const auto started = clock.now();
    install_interrupt_handler();
    for (;;) {
      const std::string status = connection.status.value_or("testing");
      if (status == "successful" || status == "failed") break;
      if (interrupted()) {
        throw CommandFailure(kExitInterrupted,
                             "interrupted: the connection test goes on without us");
      }
      if (clock.now() - started > timeout) {
        print_connection(context, connection);
        throw CommandFailure(
            kExitTimedOut,
            fmt::format("timed out: the connection test from {} to {} was still {} after {} s",
                        instance.replication_instance_identifier.value_or(instance_arn),
                        endpoint.endpoint_identifier.value_or(endpoint_arn), status,
                        static_cast<long long>(test.timeout_seconds)));
      }
      clock.sleep_for(interval);
      if (auto current = current_connection(client, endpoint_arn, instance_arn)) {
        connection = std::move(*current);
      }
    }
  }

  print_connection(context, connection);
  if (connection.status.value_or("") == "failed") {
    std::string message =
        fmt::format("connection test failed: {} cannot reach {}",
                    instance.replication_instance_identifier.value_or(instance_arn),
                    endpoint.endpoint_identifier.value_or(endpoint_arn));
    if (connection.last_failure_message && !connection.last_failure_message->empty()) {
      message += ": " + *connection.last_failure_message;
    }
    throw CommandFailure(kExitFailed, message);
  }
}

}  // namespace

void add_endpoints_commands(CLI::App& app, CommandContext& context) {
  CLI::App* endpoints = app.add_subcommand("endpoints", "Source and target endpoints");
  endpoints->require_subcommand(1);

  auto filters = std::make_shared<FilterOptions>();
  CLI::App* list = endpoints->add_subcommand("list", "List endpoints, optionally filtered");
  add_filter_options(*list, *filters);
  list->callback([&context, filters] {
    context.action = [&context, filters] { list_endpoints(context, *filters); };
  });

  auto test = std::make_shared<TestOptions>();
  CLI::App* test_cmd = endpoints->add_subcommand(
      "test", "Test the connection from a replication instance to an endpoint");
  test_cmd->add_option("endpoint", test->endpoint, "Endpoint identifier or ARN")->required();
  test_cmd->add_option("--instance", test->instance, "Replication instance identifier or ARN")
      ->required();
  test_cmd->add_flag("--wait", test->wait,
                     "Wait for the result (successful, or failed: exit code 4)");
  test_cmd->add_option("--timeout", test->timeout_seconds,
                       "With --wait, give up after S seconds (exit code 3; default 600)");
  test_cmd->callback(
      [&context, test] { context.action = [&context, test] { test_endpoint(context, *test); }; });
}

}  // namespace dagster_dms::dmsctl
