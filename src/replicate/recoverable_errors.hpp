#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string_view>

namespace dagster_dms::replicate {

// ErrorBehavior's Recoverable* settings: how a task rides through an environmental error (a lost
// connection, a database restart) instead of failing. DMS's defaults come from
// parse_full_load_settings("").recoverable; a default-constructed policy never retries.
struct RecoverableErrorPolicy {
  int count = 0;                          // RecoverableErrorCount: -1 retries forever, 0 never
  std::chrono::seconds interval{};        // RecoverableErrorInterval: the first wait
  bool throttling = false;                // RecoverableErrorThrottling: each wait doubles...
  std::chrono::seconds throttling_max{};  // RecoverableErrorThrottlingMax: ...up to this
  // RecoverableErrorStopRetryAfterThrottlingMax: once a wait has reached the maximum, the
  // attempt after it is the last.
  bool stop_after_throttling_max = false;
};

// What kind of failure ended a run, as DMS tells them apart.
enum class ErrorKind {
  kFatal,           // the data or the task's definition is wrong: retrying cannot help
  kConnectionLost,  // a connection that worked broke (a restart, a shutdown, the network)
  kCannotConnect,   // a database did not accept a new connection
};

// Classifies a failure by the SQLSTATE a PgError carries: connection exceptions (class 08),
// a server shutting down, crashing or starting (57P01-57P03) and too many connections (53300)
// are recoverable; anything else (constraint violations, bad mappings, other exceptions) is
// fatal.
ErrorKind classify_error(const std::exception& error);
ErrorKind classify_sqlstate(std::string_view sqlstate);

// The StopReason of a task that failed with this kind of error once retries are over.
std::string_view failure_stop_reason(ErrorKind kind);

// The waits between a run's attempts after recoverable errors, following the policy. Attempts
// that make progress start the series again (reset()), so RecoverableErrorCount counts failures
// in a row: a long CDC run rides through any number of restarts spread over its life.
class RetrySchedule {
 public:
  explicit RetrySchedule(const RecoverableErrorPolicy& policy) : policy_(policy) {}

  // After a failed attempt: how long to wait before the next one, or nullopt when the policy
  // allows no more.
  std::optional<std::chrono::seconds> next();
  void reset();
  // Retries granted since the last reset.
  [[nodiscard]] int retries() const { return retries_; }

 private:
  RecoverableErrorPolicy policy_;
  int retries_ = 0;
  bool reached_max_ = false;
};

}  // namespace dagster_dms::replicate
