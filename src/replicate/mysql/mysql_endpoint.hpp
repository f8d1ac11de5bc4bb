#pragma once

#include <optional>
#include <string>

#include "aws/secret.hpp"

namespace dagster_dms::replicate::mysql {

// Where a MySQL-family database (mysql, mariadb, aurora) lives, as a DMS endpoint and its
// MySQLSettings describe it.
struct MySqlEndpoint {
  std::string host = "127.0.0.1";
  int port = 3306;
  // DatabaseName: when set, only this database's tables are read; empty: every user database.
  std::string database;
  std::string user;
  aws::Secret password;
  // MySQLSettings.ServerTimezone. TIMESTAMP values are read in UTC whatever the server's zone
  // (the session's time_zone is UTC), so this only has to be a zone the server knows.
  std::string server_timezone;
  // MySQLSettings.AfterConnectScript: run on every connection right after it opens.
  std::string after_connect_script;
  int connect_timeout_seconds = 10;

  // `user@host:port/database`: safe for logs and messages (never the password).
  [[nodiscard]] std::string describe() const;
};

// Whether this dms-local was built with MySQL-family source support (the CMake option
// DAGSTER_DMS_MYSQL); the wheels are built without it.
bool mysql_support_built();

// The message a build without it gives for a MySQL-family source.
inline constexpr const char* kNoMySqlSupport =
    "this dms-local build has no MySQL source support (built without DAGSTER_DMS_MYSQL); use a "
    "build from the source tree (make bootstrap) for mysql, mariadb and aurora sources.";

// Why a connection failed, as the client library reports it.
struct ConnectionFailure {
  bool server_answered = false;  // false: nothing answered (refused, timeout, unknown host)
  std::string sqlstate;
  unsigned error_number = 0;
  std::string message;  // never holds the password
};

// TestConnection: really connects, runs AfterConnectScript and a query. nullopt on success.
std::optional<ConnectionFailure> test_connection(const MySqlEndpoint& endpoint);

// The checks DMS makes before it reads a MySQL source's binary log: binary logging on,
// binlog_format ROW, binlog_row_image FULL, REPLICATION CLIENT and REPLICATION SLAVE granted.
// nullopt when they pass, otherwise a message naming the setting and what to do.
std::optional<std::string> check_cdc_prerequisites(const MySqlEndpoint& endpoint);

}  // namespace dagster_dms::replicate::mysql
