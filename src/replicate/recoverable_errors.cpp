#include "replicate/recoverable_errors.hpp"

#include <algorithm>

#include "replicate/pg_connection.hpp"

namespace dagster_dms::replicate {

ErrorKind classify_sqlstate(std::string_view sqlstate) {
  // 08001 is what PgConnection::open reports for any connection it could not make.
  if (sqlstate == "08001") return ErrorKind::kCannotConnect;
  if (sqlstate.starts_with("08")) return ErrorKind::kConnectionLost;
  // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections.
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" || sqlstate == "53300") {
    return ErrorKind::kConnectionLost;
  }
  return ErrorKind::kFatal;
}

ErrorKind classify_error(const std::exception& error) {
  if (const auto* pg = dynamic_cast<const PgError*>(&error))
    return classify_sqlstate(pg->sqlstate());
  return ErrorKind::kFatal;
}

std::string_view failure_stop_reason(ErrorKind kind) {
  return kind == ErrorKind::kFatal ? "Stop Reason FATAL_ERROR" : "Stop Reason RECOVERABLE_ERROR";
}

std::optional<std::chrono::seconds> RetrySchedule::next() {
  if (policy_.count == 0) return std::nullopt;
  if (policy_.count > 0 && retries_ >= policy_.count) return std::nullopt;
  std::chrono::seconds wait = policy_.interval;
  if (policy_.throttling) {
    if (reached_max_ && policy_.stop_after_throttling_max) return std::nullopt;
    // interval * 2^retries, without overflowing on a long series.
    const auto cap = std::max(policy_.throttling_max, std::chrono::seconds(0));
    for (int i = 0; i < retries_ && wait < cap; ++i) wait *= 2;
    wait = std::min(wait, cap);
    reached_max_ = wait >= cap;
  }
  ++retries_;
  return wait;
}

void RetrySchedule::reset() {
  retries_ = 0;
  reached_max_ = false;
}

}  // namespace dagster_dms::replicate
