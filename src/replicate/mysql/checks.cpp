#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "replicate/mysql/connection.hpp"
#include "replicate/mysql/mysql_endpoint.hpp"

namespace dagster_dms::replicate::mysql {

bool mysql_support_built() {
  return true;
}

std::optional<ConnectionFailure> test_connection(const MySqlEndpoint& endpoint) {
  try {
    auto connection = MySqlConnection::open(endpoint);
    connection.query("SELECT 1");
    return std::nullopt;
  } catch (const MySqlError& error) {
    return ConnectionFailure{!error.is_network(), error.sqlstate(), error.error_number(),
                             error.what()};
  }
}

namespace {

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return text;
}

// Whether the user's global grants (`GRANT ... ON *.* TO ...`) include a privilege under any of
// its names (MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR; ALL PRIVILEGES has all).
bool has_global_privilege(const std::vector<std::string>& grants,
                          std::initializer_list<std::string_view> names) {
  for (const auto& grant : grants) {
    const auto on = grant.find(" ON *.* ");
    if (on == std::string::npos) continue;
    const std::string_view privileges = std::string_view(grant).substr(0, on);
    if (privileges.find("ALL PRIVILEGES") != std::string_view::npos) return true;
    for (const auto name : names) {
      if (privileges.find(name) != std::string_view::npos) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> check_cdc_prerequisites(const MySqlEndpoint& endpoint) {
  try {
    auto connection = MySqlConnection::open(endpoint);
    const auto settings = connection.query(
        "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, "
        "@@GLOBAL.binlog_row_image");
    const auto value = [&](std::size_t i) {
      return upper(settings.empty() ? std::string() : settings[0][i].value_or(""));
    };
    if (value(0) != "1" && value(0) != "ON") {
      return std::string(
          "Binary Logging must be enabled for MySQL server: log_bin is OFF. Start the source "
          "with log_bin (and a server_id) to capture changes.");
    }
    if (value(1) != "ROW") {
      return fmt::format(
          "Source database binlog_format must be ROW for change capture, but it is {}. Set "
          "binlog_format=ROW in the server's configuration (or SET GLOBAL binlog_format = 'ROW').",
          value(1));
    }
    if (value(2) != "FULL") {
      return fmt::format(
          "Source database binlog_row_image must be FULL for change capture, but it is {}. Set "
          "binlog_row_image=FULL in the server's configuration.",
          value(2));
    }
    std::vector<std::string> grants;
    for (const auto& row : connection.query("SHOW GRANTS FOR CURRENT_USER()")) {
      if (!row.empty() && row[0]) grants.push_back(upper(*row[0]));
    }
    std::vector<std::string> missing;
    if (!has_global_privilege(grants, {"REPLICATION CLIENT", "BINLOG MONITOR", "SUPER"})) {
      missing.emplace_back("REPLICATION CLIENT");
    }
    if (!has_global_privilege(grants, {"REPLICATION SLAVE"})) {
      missing.emplace_back("REPLICATION SLAVE");
    }
    if (!missing.empty()) {
      return fmt::format(
          "User '{}' lacks the {} privilege{} change capture needs. Grant {} ON *.* to it.",
          endpoint.user, fmt::join(missing, " and "), missing.size() > 1 ? "s" : "",
          fmt::join(missing, ", "));
    }
    return std::nullopt;
  } catch (const MySqlError& error) {
    return fmt::format("Error connecting to source database {}: {}", endpoint.describe(),
                       error.what());
  }
}

}  // namespace dagster_dms::replicate::mysql
