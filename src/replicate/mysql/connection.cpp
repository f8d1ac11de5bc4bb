#include "replicate/mysql/connection.hpp"

#include <fmt/format.h>

namespace dagster_dms::replicate::mysql {

MySqlConnection MySqlConnection::open(const MySqlEndpoint& endpoint) {
  MYSQL* raw = mysql_init(nullptr);
  if (raw == nullptr) throw MySqlError(2008, "HY000", "MySQL client ran out of memory");
  MySqlConnection connection(raw);
  const unsigned timeout = static_cast<unsigned>(std::max(1, endpoint.connect_timeout_seconds));
  mysql_options(raw, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(raw, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // TCP even for localhost: the endpoint names a port, and a socket file would ignore it.
  const unsigned protocol = MYSQL_PROTOCOL_TCP;
  mysql_options(raw, MYSQL_OPT_PROTOCOL, &protocol);
  if (mysql_real_connect(raw, endpoint.host.c_str(), endpoint.user.c_str(),
                         endpoint.password.reveal().c_str(), nullptr,
                         static_cast<unsigned>(endpoint.port), nullptr, 0) == nullptr) {
    throw connection.error();
  }
  connection.exec(
      "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES', time_zone = '+00:00'");
  if (!endpoint.after_connect_script.empty()) connection.exec(endpoint.after_connect_script);
  return connection;
}

bool MySqlConnection::healthy() const {
  return conn_ && mysql_ping(conn_.get()) == 0;
}

MySqlError MySqlConnection::error() const {
  return MySqlError(mysql_errno(conn_.get()), mysql_sqlstate(conn_.get()),
                    mysql_error(conn_.get()));
}

void MySqlConnection::exec(const std::string& sql) {
  if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) throw error();
  // Statements that return rows (SHOW ..., a script's SELECT) must be read to the end.
  do {
    const MySqlResult result(mysql_store_result(conn_.get()));
    if (!result && mysql_field_count(conn_.get()) != 0) throw error();
  } while (mysql_next_result(conn_.get()) == 0);
}

std::vector<TextRow> MySqlConnection::query(const std::string& sql) {
  if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) throw error();
  const MySqlResult result(mysql_store_result(conn_.get()));
  if (!result) {
    if (mysql_field_count(conn_.get()) != 0) throw error();
    return {};
  }
  const unsigned fields = mysql_num_fields(result.get());
  std::vector<TextRow> rows;
  while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(result.get());
    TextRow out;
    out.reserve(fields);
    for (unsigned i = 0; i < fields; ++i) {
      if (row[i] == nullptr) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(std::string(row[i], lengths[i]));
      }
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

MySqlResult MySqlConnection::stream(const std::string& sql) {
  if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) throw error();
  MySqlResult result(mysql_use_result(conn_.get()));
  if (!result) throw error();
  return result;
}

std::string quote_mysql_literal(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace dagster_dms::replicate::mysql
