#include "server/telemetry/metrics_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace dagster_dms::server {

namespace {

// Dimensions as one comparable column: a JSON array of [name, value] pairs sorted by name.
std::string dimensions_column(const MetricKey& key) {
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& [name, value] : key.dimensions) pairs.push_back({name, value});
  return pairs.dump();
}

std::vector<std::pair<std::string, std::string>> parse_dimensions(const std::string& column) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& pair : nlohmann::json::parse(column)) {
    out.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  }
  return out;
}

}  // namespace

void MetricKey::sort_dimensions() {
  std::sort(dimensions.begin(), dimensions.end());
}

MetricsStore::MetricsStore(SqliteDb& db) : db_(db) {
  const std::lock_guard lock(db_.mutex());
  db_.exec(
      "CREATE TABLE IF NOT EXISTS metric_datapoints (account TEXT NOT NULL, region TEXT NOT NULL, "
      "namespace TEXT NOT NULL, metric_name TEXT NOT NULL, dimensions TEXT NOT NULL, "
      "timestamp_ms INTEGER NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL)");
  db_.exec(
      "CREATE INDEX IF NOT EXISTS metric_datapoints_series ON metric_datapoints (account, region, "
      "namespace, metric_name, dimensions, timestamp_ms)");
  db_.exec("CREATE INDEX IF NOT EXISTS metric_datapoints_time ON metric_datapoints (timestamp_ms)");
}

void MetricsStore::put(const std::string& account, const std::string& region,
                       const std::vector<MetricDatum>& data) {
  if (data.empty()) return;
  const std::lock_guard lock(db_.mutex());
  db_.exec("BEGIN IMMEDIATE");
  try {
    for (const auto& datum : data) {
      MetricKey key = datum.key;
      key.sort_dimensions();
      SqliteStatement insert(db_,
                             "INSERT INTO metric_datapoints (account, region, namespace, "
                             "metric_name, dimensions, timestamp_ms, value, unit) VALUES (?, ?, "
                             "?, ?, ?, ?, ?, ?)");
      insert.bind(1, account)
          .bind(2, region)
          .bind(3, key.namespace_)
          .bind(4, key.metric_name)
          .bind(5, dimensions_column(key))
          .bind(6, datum.timestamp_ms)
          .bind(7, datum.value)
          .bind(8, datum.unit);
      insert.step();
    }
    db_.exec("COMMIT");
  } catch (...) {
    db_.exec("ROLLBACK");
    throw;
  }
}

MetricSeries MetricsStore::series(const std::string& account, const std::string& region,
                                  const MetricKey& key, std::int64_t from_ms,
                                  std::int64_t to_ms) const {
  MetricKey sorted = key;
  sorted.sort_dimensions();
  const std::lock_guard lock(db_.mutex());
  SqliteStatement query(db_,
                        "SELECT timestamp_ms, value, unit FROM metric_datapoints WHERE account = ? "
                        "AND region = ? AND namespace = ? AND metric_name = ? AND dimensions = ? "
                        "AND timestamp_ms >= ? AND timestamp_ms < ? ORDER BY timestamp_ms");
  query.bind(1, account)
      .bind(2, region)
      .bind(3, sorted.namespace_)
      .bind(4, sorted.metric_name)
      .bind(5, dimensions_column(sorted))
      .bind(6, from_ms)
      .bind(7, to_ms);
  MetricSeries out;
  while (query.step()) {
    out.samples.push_back({query.integer(0), query.real(1)});
    out.unit = query.text(2);
  }
  return out;
}

std::vector<MetricKey> MetricsStore::metrics(const std::string& account, const std::string& region,
                                             std::int64_t since_ms) const {
  const std::lock_guard lock(db_.mutex());
  SqliteStatement query(db_,
                        "SELECT DISTINCT namespace, metric_name, dimensions FROM metric_datapoints "
                        "WHERE account = ? AND region = ? AND timestamp_ms >= ? ORDER BY "
                        "namespace, metric_name, dimensions");
  query.bind(1, account).bind(2, region).bind(3, since_ms);
  std::vector<MetricKey> out;
  while (query.step()) {
    out.push_back({query.text(0), query.text(1), parse_dimensions(query.text(2))});
  }
  return out;
}

std::int64_t MetricsStore::prune(std::int64_t before_ms) {
  const std::lock_guard lock(db_.mutex());
  SqliteStatement remove(db_, "DELETE FROM metric_datapoints WHERE timestamp_ms < ?");
  remove.bind(1, before_ms);
  remove.step();
  return sqlite3_changes(db_.get());
}

}  // namespace dagster_dms::server
