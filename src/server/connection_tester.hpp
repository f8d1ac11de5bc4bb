#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "dms/model/dms_model.hpp"

namespace dagster_dms::server {

// What TestConnection needs to reach one endpoint. The password is the stored one; it is used
// for the login and never appears in a result.
struct ConnectionTestRequest {
  dms::Endpoint endpoint;
  std::optional<std::string> password;
  // Where s3 endpoints live locally (dms-local --s3-root); unset: s3 tests fail and say so.
  std::optional<std::filesystem::path> s3_root;
  std::chrono::seconds connect_timeout{5};
};

// Really connects: libpq for postgres and aurora-postgresql endpoints, a write into
// <s3-root>/<bucket> for s3 endpoints. Returns nullopt on success, or the failure in DMS's
// words (LastFailureMessage). Blocks up to the connect timeout.
std::optional<std::string> test_endpoint_connection(const ConnectionTestRequest& request);

// DMS's LastFailureMessage for a failed endpoint test: the application summary, then the
// driver's SqlState, native error and message. `secret` (the password) is masked if a driver
// ever echoes it.
std::string connection_failure_message(std::string_view summary, std::string_view sqlstate,
                                       int native_error, std::string_view driver_message,
                                       std::string_view secret);

// The s3 part on its own (for tests): nullopt when <root>/<bucket> exists or can be created and
// a file can be written there.
std::optional<std::string> test_s3_bucket(const std::optional<std::filesystem::path>& s3_root,
                                          const std::string& bucket);

}  // namespace dagster_dms::server
