#include "replicate/endpoint_sessions.hpp"

#include <fmt/format.h>

namespace dagster_dms::replicate {

PgConnection open_source_session(const PgEndpoint& endpoint, std::string_view application_name,
                                 bool replication) {
  try {
    return PgConnection::open(endpoint, application_name, replication);
  } catch (const PgError& error) {
    throw PgError(error.sqlstate(),
                  fmt::format("Error connecting to source database: {}", error.what()));
  }
}

PgConnection open_target_session(const PgEndpoint& endpoint, std::string_view application_name) {
  try {
    auto connection = PgConnection::open(endpoint, application_name);
    // The slot is told a position only once the target has it for good.
    require_durable_commits(connection);
    return connection;
  } catch (const PgError& error) {
    throw PgError(error.sqlstate(),
                  fmt::format("Error connecting to target database: {}", error.what()));
  }
}

}  // namespace dagster_dms::replicate
