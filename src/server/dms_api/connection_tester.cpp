#include "server/dms_api/connection_tester.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <system_error>

#include "replicate/mysql/mysql_endpoint.hpp"
#include "replicate/pg_connection.hpp"
#include "replicate/s3_path.hpp"
#include "server/dms_api/service_catalog.hpp"
#include "server/execution/task_plan.hpp"

namespace dagster_dms::server {

namespace {

namespace rep = replicate;

// Network problems (nothing answered) read differently in DMS from a server that answered and
// refused the login.
constexpr const char* kNetworkSummary =
    "Cannot connect to ODBC provider Network error has occurred";
constexpr const char* kRefusedSummary = "Failed to connect Network error has occurred";

bool is_postgres(const std::optional<std::string>& engine) {
  return engine == "postgres" || engine == "aurora-postgresql";
}

std::optional<std::string> test_postgres(const ConnectionTestRequest& request) {
  auto endpoint = pg_endpoint(request.endpoint, request.password, request.certificate_pem);
  // libpq's connect_timeout counts whole seconds and treats 1 as 2; 2 is its smallest.
  endpoint.connect_timeout_seconds =
      static_cast<int>(std::max<std::int64_t>(2, request.connect_timeout.count()));
  const auto connection = rep::PgConnection::attempt(endpoint, "dms-local-test-connection");
  if (connection.connected()) return std::nullopt;
  const std::string error = connection.connect_error();
  const std::string host = endpoint.host;
  const std::string port = std::to_string(endpoint.port);
  // A server that answered says FATAL; anything else is the network (refused, timeout, DNS).
  const bool answered = error.find("FATAL") != std::string::npos;
  // libpq names host and port for network errors; say them for the others too.
  const std::string detail =
      error.find(port) != std::string::npos
          ? error
          : fmt::format("connection to server at \"{}\", port {} failed: {}", host, port, error);
  return connection_failure_message(answered ? kRefusedSummary : kNetworkSummary, "08001", 101,
                                    detail);
}

std::optional<std::string> test_mysql(const ConnectionTestRequest& request) {
  if (!rep::mysql::mysql_support_built()) {
    return fmt::format("Test Endpoint failed: {}", rep::mysql::kNoMySqlSupport);
  }
  auto endpoint = mysql_endpoint(request.endpoint, request.password);
  endpoint.connect_timeout_seconds = static_cast<int>(request.connect_timeout.count());
  const auto failure = rep::mysql::test_connection(endpoint);
  if (!failure) return std::nullopt;
  return connection_failure_message(failure->server_answered ? kRefusedSummary : kNetworkSummary,
                                    failure->sqlstate, static_cast<int>(failure->error_number),
                                    failure->message);
}

}  // namespace

std::string connection_failure_message(std::string_view summary, std::string_view sqlstate,
                                       int native_error, std::string_view driver_message) {
  return fmt::format(
      "Test Endpoint failed: Application-Status: 1020912, Application-Message: {}, "
      "Application-Detailed-Message: RetCode: SQL_ERROR SqlState: {} NativeError: {} Message: {}",
      summary, sqlstate, native_error, driver_message);
}

std::optional<std::string> test_s3_bucket(const std::optional<std::filesystem::path>& s3_root,
                                          const std::string& bucket, const std::string& folder) {
  if (!s3_root) {
    return std::string(
        "Test Endpoint failed: S3 endpoints need dms-local started with --s3-root DIR (the local "
        "directory that stands for S3).");
  }
  try {
    // The checks a full load makes, before anything is created: a bad name never becomes a path.
    rep::check_s3_location(bucket, folder);
    const auto root = rep::ConfinedDirectory::open_root(*s3_root);
    const auto directory = *root.open({bucket}, true);
    // A folder that exists must be a real folder below the bucket (not a link out of the root).
    (void)directory.open(rep::bucket_folder_segments(folder), false);
    // A real write, as DMS's test puts an object into the bucket.
    thread_local std::mt19937_64 generator{std::random_device{}()};
    const auto probe = fmt::format(".dms-local-connection-test-{:016x}", generator());
    rep::FileWriter out(directory.create_file(probe, true), directory.path() / probe);
    try {
      out.write("dms-local connection test\n");
      out.close();
    } catch (const std::exception&) {
      directory.remove_file(probe);
      throw;
    }
    directory.remove_file(probe);
  } catch (const rep::S3PathError& error) {
    return fmt::format("Test Endpoint failed: {}", error.what());
  } catch (const std::exception& error) {
    return fmt::format("Test Endpoint failed: cannot write to bucket {}: {}", bucket, error.what());
  }
  return std::nullopt;
}

std::optional<std::string> test_endpoint_connection(const ConnectionTestRequest& request) {
  const auto& engine = request.endpoint.engine_name;
  if (is_postgres(engine)) return test_postgres(request);
  if (is_mysql_family(engine.value_or(""))) return test_mysql(request);
  if (engine == "s3") {
    const auto settings = request.endpoint.s3_settings.value_or(dms::S3Settings{});
    return test_s3_bucket(request.s3_root, settings.bucket_name.value_or(""),
                          settings.bucket_folder.value_or(""));
  }
  return fmt::format("Test Endpoint failed: dms-local cannot test {} endpoints.",
                     engine.value_or("(unknown)"));
}

}  // namespace dagster_dms::server
