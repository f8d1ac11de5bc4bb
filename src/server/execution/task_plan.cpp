#include "server/execution/task_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "replicate/cdc_positions.hpp"
#include "replicate/mysql/binlog_capture.hpp"
#include "replicate/mysql/binlog_rows.hpp"
#include "replicate/mysql/table_source.hpp"
#include "replicate/replication_stream.hpp"
#include "server/dms_api/service_catalog.hpp"
#include "server/execution/table_statistics_mapping.hpp"

namespace dagster_dms::server {

namespace {

namespace rep = replicate;

bool is_postgres(const std::optional<std::string>& engine) {
  return engine == "postgres" || engine == "aurora-postgresql";
}

std::string endpoint_name(const dms::Endpoint& endpoint) {
  return endpoint.endpoint_identifier.value_or(endpoint.endpoint_arn.value_or("(unknown)"));
}

// DMS's SslMode values to libpq's sslmode. DMS's `none` means no TLS at all, which is libpq's
// `disable` (libpq's own default, `prefer`, would try TLS first).
std::string libpq_sslmode(const std::optional<std::string>& ssl_mode) {
  if (!ssl_mode || ssl_mode->empty()) return {};
  if (*ssl_mode == "none") return "disable";
  return *ssl_mode;  // require, verify-ca, verify-full: the same words in libpq
}

}  // namespace

// The connection members live at the top of the endpoint; PostgreSQLSettings may carry them too
// (DMS mirrors them there), so either place counts, top level first.
rep::PgEndpoint pg_endpoint(const dms::Endpoint& endpoint,
                            const std::optional<std::string>& password,
                            const std::optional<std::string>& certificate_pem) {
  const auto& settings = endpoint.postgresql_settings;
  const auto pick = [&](const std::optional<std::string>& top,
                        std::optional<std::string> dms::PostgreSQLSettings::*member) {
    if (top && !top->empty()) return *top;
    if (settings && (*settings).*member) return *((*settings).*member);
    return std::string();
  };
  rep::PgEndpoint out;
  out.host = pick(endpoint.server_name, &dms::PostgreSQLSettings::server_name);
  if (out.host.empty()) out.host = "127.0.0.1";
  if (endpoint.port) {
    out.port = static_cast<int>(*endpoint.port);
  } else if (settings && settings->port) {
    out.port = static_cast<int>(*settings->port);
  }
  out.dbname = pick(endpoint.database_name, &dms::PostgreSQLSettings::database_name);
  out.user = pick(endpoint.username, &dms::PostgreSQLSettings::username);
  if (password) out.password = aws::Secret(*password);
  out.sslmode = libpq_sslmode(endpoint.ssl_mode);
  if (certificate_pem) out.ssl_root_certificate_pem = *certificate_pem;
  return out;
}

rep::PgEndpoint source_pg_endpoint(const TaskRun& run) {
  return pg_endpoint(run.source, run.source_password, run.source_certificate_pem);
}

rep::PgEndpoint target_pg_endpoint(const TaskRun& run) {
  return pg_endpoint(run.target, run.target_password, run.target_certificate_pem);
}

rep::mysql::MySqlEndpoint mysql_endpoint(const dms::Endpoint& endpoint,
                                         const std::optional<std::string>& password) {
  const dms::MySQLSettings settings = endpoint.mysql_settings.value_or(dms::MySQLSettings{});
  const auto pick = [](const std::optional<std::string>& top,
                       const std::optional<std::string>& nested) {
    if (top && !top->empty()) return *top;
    return nested.value_or("");
  };
  rep::mysql::MySqlEndpoint out;
  out.host = pick(endpoint.server_name, settings.server_name);
  if (out.host.empty()) out.host = "127.0.0.1";
  if (endpoint.port) {
    out.port = static_cast<int>(*endpoint.port);
  } else if (settings.port) {
    out.port = static_cast<int>(*settings.port);
  }
  out.database = pick(endpoint.database_name, settings.database_name);
  out.user = pick(endpoint.username, settings.username);
  if (password) out.password = aws::Secret(*password);
  out.server_timezone = settings.server_timezone.value_or("");
  out.after_connect_script = settings.after_connect_script.value_or("");
  return out;
}

namespace {

// The s3 target as local files, or why these settings cannot be written the way DMS would.
std::variant<rep::FileTarget, std::string> file_target(
    const dms::Endpoint& endpoint, const std::optional<std::filesystem::path>& s3_root) {
  if (!s3_root) {
    return fmt::format(
        "Target endpoint {} is an s3 endpoint, but dms-local was started without --s3-root; "
        "restart it with --s3-root DIR to write s3 targets to a local directory.",
        endpoint_name(endpoint));
  }
  const dms::S3Settings settings = endpoint.s3_settings.value_or(dms::S3Settings{});
  if (settings.data_format && *settings.data_format != "csv") {
    return fmt::format("S3Settings.DataFormat {} is not supported by dms-local; use csv.",
                       *settings.data_format);
  }
  if (settings.compression_type && *settings.compression_type != "NONE" &&
      *settings.compression_type != "none") {
    return fmt::format("S3Settings.CompressionType {} is not supported by dms-local; use NONE.",
                       *settings.compression_type);
  }
  if (settings.preserve_transactions.value_or(false) || !settings.cdc_path.value_or("").empty()) {
    return std::string(
        "S3Settings.PreserveTransactions and CdcPath are not supported by dms-local; remove them "
        "to write CDC files per table.");
  }
  if (settings.date_partition_enabled.value_or(false)) {
    return std::string(
        "S3Settings.DatePartitionEnabled is not supported by dms-local; set it to false.");
  }
  if (settings.cdc_inserts_only.value_or(false) &&
      settings.cdc_inserts_and_updates.value_or(false)) {
    return std::string(
        "S3Settings.CdcInsertsOnly and CdcInsertsAndUpdates cannot both be true; set one of "
        "them to false.");
  }
  rep::FileTarget target;
  target.include_op_for_full_load = settings.include_op_for_full_load.value_or(false);
  target.cdc_inserts_only = settings.cdc_inserts_only.value_or(false);
  target.cdc_inserts_and_updates = settings.cdc_inserts_and_updates.value_or(false);
  target.timestamp_column_name = settings.timestamp_column_name.value_or("");
  if (settings.cdc_max_batch_interval) {
    if (*settings.cdc_max_batch_interval < 1) {
      return fmt::format(
          "S3Settings.CdcMaxBatchInterval {} is invalid; give a number of seconds "
          "of at least 1.",
          *settings.cdc_max_batch_interval);
    }
    target.cdc_max_batch_interval_seconds =
        static_cast<std::uint32_t>(std::min<std::int64_t>(*settings.cdc_max_batch_interval, 86400));
  }
  if (settings.cdc_min_file_size) {
    if (*settings.cdc_min_file_size < 1) {
      return fmt::format(
          "S3Settings.CdcMinFileSize {} is invalid; give a size in KB of at least 1.",
          *settings.cdc_min_file_size);
    }
    target.cdc_min_file_size_kb = static_cast<std::uint64_t>(*settings.cdc_min_file_size);
  }
  target.root = *s3_root;
  target.bucket = settings.bucket_name.value_or("");
  target.folder = settings.bucket_folder.value_or("");
  if (settings.max_file_size && *settings.max_file_size > 0) {
    target.max_file_size_kb = static_cast<std::uint64_t>(*settings.max_file_size);
  }
  if (settings.csv_delimiter) target.csv.delimiter = *settings.csv_delimiter;
  if (settings.csv_row_delimiter) target.csv.row_delimiter = *settings.csv_row_delimiter;
  if (settings.csv_null_value) target.csv.null_value = *settings.csv_null_value;
  if (settings.add_column_name) target.csv.add_column_name = *settings.add_column_name;
  if (target.bucket.empty()) {
    return fmt::format("Target endpoint {} has no S3Settings.BucketName.", endpoint_name(endpoint));
  }
  return target;
}

// The CDC part of a cdc or full-load-and-cdc run; nullopt for a full-load task.
std::optional<rep::CdcRequest> cdc_request(const TaskRun& run,
                                           const std::string& task_resource_id) {
  const auto migration = run.task.migration_type.value_or("full-load");
  if (migration == "full-load") return std::nullopt;
  rep::CdcRequest request;
  request.slot = rep::replication_slot_name(task_resource_id);
  request.task_name = task_resource_id;
  // plan_task_run has refused values that do not parse.
  if (run.task.cdc_stop_position) {
    request.stop_position = rep::parse_cdc_stop_position(*run.task.cdc_stop_position);
  }
  // A start position belongs to a cdc task: a full-load-and-cdc run starts where its load's
  // snapshot ends.
  if (migration == "cdc" && run.cdc_start_position) {
    request.start_position = rep::parse_cdc_start_position(*run.cdc_start_position);
  }
  request.full_load = migration == "full-load-and-cdc";
  // resume-processing continues from the stored position. Without one (the run before was
  // stopped during its full load) it starts afresh, as DMS reloads unfinished tables. A
  // CdcStartPosition given with the start overrides it.
  if (run.start_type == "resume-processing" && run.task.recovery_checkpoint &&
      !request.start_position) {
    request.resume_from = rep::parse_recovery_checkpoint(*run.task.recovery_checkpoint);
  }
  if (request.resume_from) {
    for (const auto& stored : run.table_statistics) {
      request.previous_tables.push_back(table_status(stored));
    }
  }
  return request;
}

}  // namespace

std::variant<TaskPlan, std::string> plan_task_run(
    const TaskRun& run, const std::optional<std::filesystem::path>& s3_root,
    const std::string& task_resource_id) {
  const auto& task = run.task;
  const auto task_id = task.replication_task_identifier.value_or("(unknown)");
  const auto migration = task.migration_type.value_or("full-load");
  if (migration != "full-load" && !is_postgres(run.target.engine_name) &&
      run.target.engine_name != "s3") {
    return fmt::format(
        "Task {} has MigrationType {}; dms-local captures changes to postgres, "
        "aurora-postgresql and s3 targets only.",
        task_id, migration);
  }
  const bool mysql_source = is_mysql_family(run.source.engine_name.value_or(""));
  if (mysql_source) {
    if (!rep::mysql::mysql_support_built()) {
      return fmt::format("Source endpoint {}: {}", endpoint_name(run.source),
                         rep::mysql::kNoMySqlSupport);
    }
    if (migration != "full-load" && run.target.engine_name == "s3") {
      return fmt::format(
          "Task {} has MigrationType {}; dms-local applies changes from {} sources to postgres "
          "and aurora-postgresql targets only.",
          task_id, migration, *run.source.engine_name);
    }
    if (migration != "full-load" && task.cdc_stop_position) {
      return fmt::format("Task {}: CdcStopPosition is not supported with {} sources in dms-local.",
                         task_id, *run.source.engine_name);
    }
    if (migration == "cdc" && run.cdc_start_position &&
        !rep::mysql::parse_start_position(*run.cdc_start_position)) {
      return fmt::format(
          "Task {} has CdcStartPosition '{}'; expected a binary log position such as "
          "mysql-bin-changelog.000024:373 or a RecoveryCheckpoint.",
          task_id, *run.cdc_start_position);
    }
  } else if (!is_postgres(run.source.engine_name)) {
    return fmt::format(
        "Source endpoint {} has engine {}; dms-local reads from postgres, aurora-postgresql, "
        "mysql, mariadb and aurora sources only.",
        endpoint_name(run.source), run.source.engine_name.value_or("(none)"));
  }
  if (migration != "full-load" && task.cdc_stop_position &&
      !rep::parse_cdc_stop_position(*task.cdc_stop_position)) {
    return fmt::format(
        "Task {} has CdcStopPosition '{}'; expected server_time:YYYY-MM-DDTHH:MM:SS or "
        "commit_time:YYYY-MM-DDTHH:MM:SS.",
        task_id, *task.cdc_stop_position);
  }
  if (migration == "cdc" && run.cdc_start_position && !mysql_source &&
      !rep::parse_cdc_start_position(*run.cdc_start_position)) {
    return fmt::format(
        "Task {} has CdcStartPosition '{}'; expected an LSN such as 4AF/B00000D0 or a "
        "RecoveryCheckpoint.",
        task_id, *run.cdc_start_position);
  }
  rep::FullLoadRequest request;
  std::shared_ptr<rep::mysql::MySqlTableSource> mysql_table_source;
  if (mysql_source) {
    mysql_table_source =
        rep::mysql::make_table_source(mysql_endpoint(run.source, run.source_password));
    request.other_source = mysql_table_source;
  } else {
    request.source = source_pg_endpoint(run);
  }
  if (is_postgres(run.target.engine_name)) {
    request.target = rep::PostgresTarget{target_pg_endpoint(run)};
  } else if (run.target.engine_name == "s3") {
    auto target = file_target(run.target, s3_root);
    if (auto* message = std::get_if<std::string>(&target)) return std::move(*message);
    request.target = std::get<rep::FileTarget>(std::move(target));
  } else {
    return fmt::format(
        "Target endpoint {} has engine {}; dms-local writes to postgres, aurora-postgresql and s3 "
        "targets only.",
        endpoint_name(run.target), run.target.engine_name.value_or("(none)"));
  }
  request.table_mappings = task.table_mappings.value_or("");
  request.task_settings = task.replication_task_settings.value_or("");
  auto cdc = cdc_request(run, task_resource_id);
  if (cdc && mysql_table_source) {
    cdc->other_capture = rep::mysql::make_binlog_capture(mysql_table_source);
    if (migration == "cdc" && run.cdc_start_position) {
      cdc->start_position = rep::mysql::parse_start_position(*run.cdc_start_position);
    }
  }
  return TaskPlan{std::move(request), std::move(cdc)};
}

bool captures_postgres_changes(const TaskRun& run) {
  return run.task.migration_type.value_or("full-load") != "full-load" &&
         is_postgres(run.source.engine_name);
}

}  // namespace dagster_dms::server
