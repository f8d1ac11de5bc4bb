#pragma once

#include <string_view>

#include "replicate/pg_connection.hpp"

namespace dagster_dms::replicate {

// The sessions a task opens on its endpoints. A failure reads "Error connecting to source (or
// target) database: ..." as in DMS's logs and keeps the driver's SQLSTATE, which tells a
// database that is restarting (retried) from a wrong definition (see classify_error).
PgConnection open_source_session(const PgEndpoint& endpoint, std::string_view application_name,
                                 bool replication = false);

// A target session whose commits are durable (require_durable_commits).
PgConnection open_target_session(const PgEndpoint& endpoint, std::string_view application_name);

}  // namespace dagster_dms::replicate
