#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "replicate/pgoutput.hpp"

namespace dagster_dms::replicate {

// CdcStartPosition for a PostgreSQL source: an LSN (`4AF/B00000D0`) or DMS's checkpoint form
// (`checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0`, what RecoveryCheckpoint shows). nullopt when
// the text is neither.
std::optional<Lsn> parse_cdc_start_position(std::string_view text);

// CdcStopPosition: `server_time:YYYY-MM-DDTHH:MM:SS` stops when dms-local's clock reaches the
// time; `commit_time:...` stops before the first transaction committed after it. Times are UTC.
struct CdcStopPosition {
  enum class Kind { kServerTime, kCommitTime };
  Kind kind = Kind::kServerTime;
  std::chrono::system_clock::time_point at;

  [[nodiscard]] std::string stop_reason() const {
    return kind == Kind::kServerTime ? "Stop Reason STOPPED_AT_SERVER_TIME"
                                     : "Stop Reason STOPPED_AT_COMMIT_TIME";
  }
};

// nullopt for anything else, including impossible dates (2026-02-30) and other time formats.
std::optional<CdcStopPosition> parse_cdc_stop_position(std::string_view text);

}  // namespace dagster_dms::replicate
