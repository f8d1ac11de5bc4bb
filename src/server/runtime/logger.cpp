#include "server/runtime/logger.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "dms/model/codec.hpp"

namespace dagster_dms::server {

LogLevel parse_log_level(std::string_view text) {
  if (text == "error") return LogLevel::kError;
  if (text == "warning" || text == "warn") return LogLevel::kWarning;
  if (text == "info") return LogLevel::kInfo;
  if (text == "debug") return LogLevel::kDebug;
  throw std::invalid_argument("log level must be error, warning, info or debug");
}

void Logger::log(LogLevel level, std::string_view message) {
  if (!enabled(level)) return;
  static constexpr const char* kNames[] = {"ERROR", "WARN", "INFO", "DEBUG"};
  const auto stamp = dms::format_iso8601(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
  const std::lock_guard lock(mutex_);
  std::fprintf(stderr, "%s %-5s %.*s\n", stamp.c_str(), kNames[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace dagster_dms::server
