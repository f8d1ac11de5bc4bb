#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

namespace dagster_dms::server {

// One SQLite connection of its own to the state file. The telemetry stores (metrics, logs) are
// written from background threads while the control plane holds its own connection; WAL mode
// lets the two coexist, and each store serializes its own use of this connection.
class SqliteDb {
 public:
  explicit SqliteDb(const std::filesystem::path& file);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  void exec(const std::string& sql);
  [[nodiscard]] sqlite3* get() const { return db_; }
  // Held for every statement a store runs (prepared statements are not shareable across threads).
  std::mutex& mutex() { return mutex_; }

 private:
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

// A prepared statement that finalizes itself. Binding indexes start at 1, columns at 0.
class SqliteStatement {
 public:
  SqliteStatement(const SqliteDb& db, const std::string& sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& bind(int index, const std::string& value);
  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, double value);
  // True while a row is available.
  bool step();
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] std::int64_t integer(int column) const;
  [[nodiscard]] double real(int column) const;
  [[nodiscard]] bool is_null(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace dagster_dms::server
