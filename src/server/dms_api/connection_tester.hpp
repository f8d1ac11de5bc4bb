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
  // The PEM CA certificate the endpoint's CertificateArn names (SslMode verify-ca/verify-full).
  std::optional<std::string> certificate_pem;
  // Where s3 endpoints live locally (dms-local --s3-root); unset: s3 tests fail and say so.
  std::optional<std::filesystem::path> s3_root;
  std::chrono::seconds connect_timeout{5};
};

// Really connects: libpq for postgres and aurora-postgresql endpoints, MariaDB Connector/C for
// mysql, mariadb and aurora endpoints (which also runs MySQLSettings.AfterConnectScript), a write
// into <s3-root>/<bucket> for s3 endpoints. Returns nullopt on success, or the failure in DMS's
// words (LastFailureMessage). Blocks up to the connect timeout.
std::optional<std::string> test_endpoint_connection(const ConnectionTestRequest& request);

// DMS's LastFailureMessage for a failed endpoint test: the application summary, then the
// driver's SqlState, native error and message.
//
// Nothing here masks a password, and nothing needs to: the password goes to libpq only in its
// keyword array (never in a connection string or any text we format), libpq's messages never
// repeat it, and PostgreSQL's authentication errors name the user, not the password. Masking
// every occurrence of the password, as an earlier version did, mangled messages and gave short
// passwords away (`1` turned 127.0.0.1 into ****27.0.0.****).
std::string connection_failure_message(std::string_view summary, std::string_view sqlstate,
                                       int native_error, std::string_view driver_message);

// The s3 part on its own (for tests): nullopt when the bucket name and folder are valid,
// <root>/<bucket> exists or can be created inside the root, and a file can be written there.
// Nothing is created for an invalid name, and nothing outside the root in any case.
std::optional<std::string> test_s3_bucket(const std::optional<std::filesystem::path>& s3_root,
                                          const std::string& bucket, const std::string& folder);

}  // namespace dagster_dms::server
