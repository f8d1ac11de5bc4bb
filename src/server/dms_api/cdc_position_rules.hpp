#pragma once

#include <optional>
#include <string>

namespace dagster_dms::server {

// The CDC positions of CreateReplicationTask, ModifyReplicationTask and StartReplicationTask:
// CdcStartPosition must be an LSN (`4AF/B00000D0`) or a RecoveryCheckpoint, CdcStopPosition
// `server_time:YYYY-MM-DDTHH:MM:SS` or `commit_time:...`, and CdcStartTime is refused for a
// PostgreSQL source (DMS cannot start a PostgreSQL capture from a time). Throws
// InvalidParameterValueException naming the field, the value and what to send instead.
void require_valid_cdc_positions(bool has_start_time,
                                 const std::optional<std::string>& start_position,
                                 const std::optional<std::string>& stop_position,
                                 const std::string& source_engine);

}  // namespace dagster_dms::server
