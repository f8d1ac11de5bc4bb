#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/store/sqlite_db.hpp"

namespace dagster_dms::server {

// One stored log event. `id` grows with every event written, so it orders events the way they
// were ingested and serves as the position behind pagination tokens.
struct LogEventRecord {
  std::int64_t id = 0;
  std::string stream;
  std::int64_t timestamp_ms = 0;
  std::int64_t ingestion_ms = 0;
  std::string message;
};

struct LogStreamInfo {
  std::string name;
  std::int64_t creation_ms = 0;
  std::int64_t first_event_ms = 0;
  std::int64_t last_event_ms = 0;
  std::int64_t last_ingestion_ms = 0;
  std::int64_t stored_bytes = 0;
};

struct LogGroupInfo {
  std::string name;
  std::int64_t creation_ms = 0;
  std::int64_t stored_bytes = 0;
};

// Which events of a group a read wants.
struct LogEventQuery {
  std::vector<std::string> streams;  // empty: every stream of the group
  std::optional<std::string> stream_prefix;
  std::optional<std::int64_t> start_ms;   // inclusive
  std::optional<std::int64_t> end_ms;     // exclusive
  std::int64_t after_id = 0;              // forward reads: ids above this
  std::optional<std::int64_t> before_id;  // backward reads: ids below this
  std::int64_t limit = 10000;
  bool backward = false;  // newest first (the result is still returned oldest first)
};

// CloudWatch Logs' state: log groups and streams exist as long as they hold events (dms-local
// creates them by writing). Stored in the state file (table log_events). Thread-safe.
class LogStore {
 public:
  explicit LogStore(SqliteDb& db);

  void append(const std::string& account, const std::string& region, const std::string& group,
              const std::string& stream, std::int64_t timestamp_ms, std::int64_t ingestion_ms,
              const std::string& message);

  [[nodiscard]] std::vector<LogGroupInfo> groups(const std::string& account,
                                                 const std::string& region) const;
  [[nodiscard]] std::vector<LogStreamInfo> streams(const std::string& account,
                                                   const std::string& region,
                                                   const std::string& group) const;
  // Events in id order (oldest first), at most query.limit.
  [[nodiscard]] std::vector<LogEventRecord> events(const std::string& account,
                                                   const std::string& region,
                                                   const std::string& group,
                                                   const LogEventQuery& query) const;
  // Removes one stream's events (DeleteTaskLogs).
  void delete_stream(const std::string& account, const std::string& region,
                     const std::string& group, const std::string& stream);

 private:
  SqliteDb& db_;
};

}  // namespace dagster_dms::server
