#include "server/telemetry/log_store.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dagster_dms::server {

LogStore::LogStore(SqliteDb& db) : db_(db) {
  const std::lock_guard lock(db_.mutex());
  db_.exec(
      "CREATE TABLE IF NOT EXISTS log_events (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT "
      "NOT NULL, region TEXT NOT NULL, log_group TEXT NOT NULL, log_stream TEXT NOT NULL, "
      "timestamp_ms INTEGER NOT NULL, ingestion_ms INTEGER NOT NULL, message TEXT NOT NULL)");
  db_.exec(
      "CREATE INDEX IF NOT EXISTS log_events_stream ON log_events (account, region, log_group, "
      "log_stream, id)");
}

void LogStore::append(const std::string& account, const std::string& region,
                      const std::string& group, const std::string& stream,
                      std::int64_t timestamp_ms, std::int64_t ingestion_ms,
                      const std::string& message) {
  const std::lock_guard lock(db_.mutex());
  SqliteStatement insert(db_,
                         "INSERT INTO log_events (account, region, log_group, log_stream, "
                         "timestamp_ms, ingestion_ms, message) VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, account)
      .bind(2, region)
      .bind(3, group)
      .bind(4, stream)
      .bind(5, timestamp_ms)
      .bind(6, ingestion_ms)
      .bind(7, message);
  insert.step();
}

std::vector<LogGroupInfo> LogStore::groups(const std::string& account,
                                           const std::string& region) const {
  const std::lock_guard lock(db_.mutex());
  SqliteStatement query(db_,
                        "SELECT log_group, MIN(ingestion_ms), SUM(LENGTH(CAST(message AS BLOB))) "
                        "FROM log_events WHERE account = ? AND region = ? GROUP BY log_group "
                        "ORDER BY log_group");
  query.bind(1, account).bind(2, region);
  std::vector<LogGroupInfo> out;
  while (query.step()) out.push_back({query.text(0), query.integer(1), query.integer(2)});
  return out;
}

std::vector<LogStreamInfo> LogStore::streams(const std::string& account, const std::string& region,
                                             const std::string& group) const {
  const std::lock_guard lock(db_.mutex());
  SqliteStatement query(db_,
                        "SELECT log_stream, MIN(ingestion_ms), MIN(timestamp_ms), "
                        "MAX(timestamp_ms), MAX(ingestion_ms), SUM(LENGTH(CAST(message AS BLOB))) "
                        "FROM log_events WHERE account = ? AND region = ? AND log_group = ? GROUP "
                        "BY log_stream ORDER BY log_stream");
  query.bind(1, account).bind(2, region).bind(3, group);
  std::vector<LogStreamInfo> out;
  while (query.step()) {
    out.push_back({query.text(0), query.integer(1), query.integer(2), query.integer(3),
                   query.integer(4), query.integer(5)});
  }
  return out;
}

std::vector<LogEventRecord> LogStore::events(const std::string& account, const std::string& region,
                                             const std::string& group,
                                             const LogEventQuery& query) const {
  std::string sql =
      "SELECT id, log_stream, timestamp_ms, ingestion_ms, message FROM log_events WHERE account = "
      "?1 AND region = ?2 AND log_group = ?3 AND id > ?4";
  if (query.before_id) sql += " AND id < ?5";
  if (query.start_ms) sql += " AND timestamp_ms >= ?6";
  if (query.end_ms) sql += " AND timestamp_ms < ?7";
  if (query.stream_prefix) sql += " AND substr(log_stream, 1, length(?8)) = ?8";
  if (!query.streams.empty()) {
    sql += " AND log_stream IN (";
    for (std::size_t i = 0; i < query.streams.size(); ++i) {
      sql += fmt::format("{}?{}", i == 0 ? "" : ", ", 10 + i);
    }
    sql += ")";
  }
  sql += query.backward ? " ORDER BY id DESC LIMIT ?9" : " ORDER BY id LIMIT ?9";

  const std::lock_guard lock(db_.mutex());
  SqliteStatement statement(db_, sql);
  statement.bind(1, account).bind(2, region).bind(3, group).bind(4, query.after_id);
  if (query.before_id) statement.bind(5, *query.before_id);
  if (query.start_ms) statement.bind(6, *query.start_ms);
  if (query.end_ms) statement.bind(7, *query.end_ms);
  if (query.stream_prefix) statement.bind(8, *query.stream_prefix);
  statement.bind(9, query.limit);
  for (std::size_t i = 0; i < query.streams.size(); ++i) {
    statement.bind(static_cast<int>(10 + i), query.streams[i]);
  }
  std::vector<LogEventRecord> out;
  while (statement.step()) {
    out.push_back({statement.integer(0), statement.text(1), statement.integer(2),
                   statement.integer(3), statement.text(4)});
  }
  if (query.backward) std::reverse(out.begin(), out.end());
  return out;
}

void LogStore::delete_stream(const std::string& account, const std::string& region,
                             const std::string& group, const std::string& stream) {
  const std::lock_guard lock(db_.mutex());
  SqliteStatement remove(db_,
                         "DELETE FROM log_events WHERE account = ? AND region = ? AND log_group = "
                         "? AND log_stream = ?");
  remove.bind(1, account).bind(2, region).bind(3, group).bind(4, stream);
  remove.step();
}

}  // namespace dagster_dms::server
