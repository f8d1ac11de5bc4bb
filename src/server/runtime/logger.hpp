#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace dagster_dms::server {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

// Parses error|warning|info|debug; throws std::invalid_argument otherwise.
LogLevel parse_log_level(std::string_view text);

// One line per event on stderr. Callers pass no secrets: Authorization headers, secret keys and
// endpoint passwords are never handed to the logger.
class Logger {
 public:
  explicit Logger(LogLevel level) : level_(level) {}
  void log(LogLevel level, std::string_view message);
  [[nodiscard]] bool enabled(LogLevel level) const { return level <= level_; }

 private:
  LogLevel level_;
  std::mutex mutex_;
};

}  // namespace dagster_dms::server
