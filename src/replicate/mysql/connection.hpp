#pragma once

#include <mysql.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/mysql/mysql_endpoint.hpp"

namespace dagster_dms::replicate::mysql {

// A failed statement or connection with the server's error number and SQLSTATE (DMS quotes both).
class MySqlError : public std::runtime_error {
 public:
  MySqlError(unsigned error_number, std::string sqlstate, const std::string& message)
      : std::runtime_error(message), error_number_(error_number), sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] unsigned error_number() const { return error_number_; }
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }
  // The client library's own errors (2000-2999): the server could not be reached or went away.
  [[nodiscard]] bool is_network() const { return error_number_ >= 2000 && error_number_ < 3000; }

 private:
  unsigned error_number_;
  std::string sqlstate_;
};

struct ResultDeleter {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};
using MySqlResult = std::unique_ptr<MYSQL_RES, ResultDeleter>;

// One row of text values; nullopt is SQL NULL.
using TextRow = std::vector<std::optional<std::string>>;

// One client connection (MariaDB Connector/C). Move-only; closed on destruction. Sessions run
// with ANSI_QUOTES and NO_BACKSLASH_ESCAPES, so the SQL the table mappings produce for
// PostgreSQL (double-quoted names, standard string literals) means the same here; with utf8mb4,
// so every character set arrives as UTF-8; and in UTC, so TIMESTAMP values arrive in UTC.
class MySqlConnection {
 public:
  // Throws MySqlError when the server cannot be reached or refuses the login, or when
  // AfterConnectScript fails.
  static MySqlConnection open(const MySqlEndpoint& endpoint);

  [[nodiscard]] MYSQL* get() const { return conn_.get(); }
  [[nodiscard]] bool healthy() const;

  // Runs one statement and discards any result; throws MySqlError.
  void exec(const std::string& sql);
  // Runs a query and returns every row (for catalog and settings queries, never table data).
  std::vector<TextRow> query(const std::string& sql);
  // Runs a query whose rows are fetched one at a time as they arrive (mysql_use_result): a
  // table is never held in memory.
  MySqlResult stream(const std::string& sql);

  [[nodiscard]] MySqlError error() const;

 private:
  struct ConnDeleter {
    void operator()(MYSQL* conn) const { mysql_close(conn); }
  };
  explicit MySqlConnection(MYSQL* conn) : conn_(conn) {}
  std::unique_ptr<MYSQL, ConnDeleter> conn_;
};

// A MySQL string literal (for sessions in NO_BACKSLASH_ESCAPES, as MySqlConnection's are).
std::string quote_mysql_literal(std::string_view value);

}  // namespace dagster_dms::replicate::mysql
