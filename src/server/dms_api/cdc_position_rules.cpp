#include "server/dms_api/cdc_position_rules.hpp"

#include <fmt/format.h>

#include "replicate/cdc_positions.hpp"
#include "replicate/mysql/binlog_rows.hpp"
#include "server/dms_api/service_catalog.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

void require_valid_cdc_positions(bool has_start_time,
                                 const std::optional<std::string>& start_position,
                                 const std::optional<std::string>& stop_position,
                                 const std::string& source_engine) {
  if (has_start_time && (source_engine == "postgres" || source_engine == "aurora-postgresql")) {
    throw invalid_parameter(
        "CdcStartTime is not supported for PostgreSQL sources: a replication slot cannot "
        "return changes from a point in time. Use CdcStartPosition with an LSN such as "
        "4AF/B00000D0 (or a RecoveryCheckpoint) instead.");
  }
  if (is_mysql_family(source_engine)) {
    if (has_start_time) {
      throw invalid_parameter(
          "CdcStartTime is not supported with MySQL-family sources in dms-local. Use "
          "CdcStartPosition with a binary log position such as mysql-bin-changelog.000024:373.");
    }
    if (start_position && !replicate::mysql::parse_start_position(*start_position)) {
      throw invalid_parameter(
          fmt::format("Invalid CdcStartPosition '{}': expected a binary log position such as "
                      "mysql-bin-changelog.000024:373 (file:offset) or a RecoveryCheckpoint.",
                      *start_position));
    }
  } else if (start_position && !replicate::parse_cdc_start_position(*start_position)) {
    throw invalid_parameter(fmt::format(
        "Invalid CdcStartPosition '{}': expected a PostgreSQL LSN such as 4AF/B00000D0 or a "
        "checkpoint such as checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0.",
        *start_position));
  }
  if (stop_position && !replicate::parse_cdc_stop_position(*stop_position)) {
    throw invalid_parameter(
        fmt::format("Invalid CdcStopPosition '{}': expected server_time:YYYY-MM-DDTHH:MM:SS or "
                    "commit_time:YYYY-MM-DDTHH:MM:SS (UTC).",
                    *stop_position));
  }
}

}  // namespace dagster_dms::server
