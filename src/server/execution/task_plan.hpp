#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <variant>

#include "replicate/cdc.hpp"
#include "replicate/full_load.hpp"
#include "replicate/mysql/mysql_endpoint.hpp"
#include "replicate/pg_connection.hpp"
#include "server/execution/task_executor.hpp"

namespace dagster_dms::server {

// What the engine runs for one start of a task. Passwords stay inside aws::Secret.
struct TaskPlan {
  // The load: all of a full-load task; the first part of a full-load-and-cdc task, and what a
  // CDC run's table reloads copy with.
  replicate::FullLoadRequest load;
  // The change capture of a cdc or full-load-and-cdc task; nullopt for a full-load task.
  std::optional<replicate::CdcRequest> cdc;
};

// Turns a stored task run into the engine's plan, or says why dms-local cannot run it (a message
// for LastFailureMessage). `s3_root` is where `s3` target endpoints write (--s3-root);
// `task_resource_id` (the task ARN's last part) names the run's replication slot.
std::variant<TaskPlan, std::string> plan_task_run(
    const TaskRun& run, const std::optional<std::filesystem::path>& s3_root,
    const std::string& task_resource_id);

// Whether the task captures changes from a postgres source: a replication slot and publications
// on the source are then its own, to drop when the task is deleted.
bool captures_postgres_changes(const TaskRun& run);

// An endpoint as libpq connects to it, with its stored password and the PEM CA certificate its
// CertificateArn names.
replicate::PgEndpoint pg_endpoint(const dms::Endpoint& endpoint,
                                  const std::optional<std::string>& password,
                                  const std::optional<std::string>& certificate_pem);
// A run's source and target endpoints as libpq connects to them.
replicate::PgEndpoint source_pg_endpoint(const TaskRun& run);
replicate::PgEndpoint target_pg_endpoint(const TaskRun& run);

// A MySQL-family endpoint as the client library connects to it: the top level first,
// MySQLSettings (where DMS mirrors the connection members) second.
replicate::mysql::MySqlEndpoint mysql_endpoint(const dms::Endpoint& endpoint,
                                               const std::optional<std::string>& password);

}  // namespace dagster_dms::server
