#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/dms_api/identifiers.hpp"

struct sqlite3;

namespace dagster_dms::server {

// One dms-local per state directory: two would each cache and rewrite the same resources. An
// exclusive flock on <state_dir>/dms-local.lock, held while this object lives; the kernel drops it
// when the process ends however it ends, so a killed server can be restarted at once.
class StateDirectoryLock {
 public:
  // Creates the directory if needed. Throws std::runtime_error naming the directory (and the
  // process holding it) when another process holds the lock.
  explicit StateDirectoryLock(const std::filesystem::path& state_dir);
  ~StateDirectoryLock();
  StateDirectoryLock(const StateDirectoryLock&) = delete;
  StateDirectoryLock& operator=(const StateDirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

// One stored resource: its public document (the DMS model's JSON, AWS wire names) plus an
// internal document for what the API never returns (endpoint passwords, run counters).
struct Record {
  std::string arn;
  std::string identifier;
  std::string account;
  std::string region;
  nlohmann::json doc = nlohmann::json::object();
  nlohmann::json internal = nlohmann::json::object();
};

// dms-local's control-plane state: one SQLite file under the state directory, readable by its
// owner only (it holds endpoint passwords), served by one process at a time. Not thread-safe: the
// service serializes access.
class Store {
 public:
  static constexpr int kSchemaVersion = 5;

  explicit Store(const std::filesystem::path& state_dir);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  [[nodiscard]] std::optional<Record> find_by_arn(ResourceKind kind, const std::string& arn) const;
  [[nodiscard]] std::optional<Record> find_by_identifier(ResourceKind kind,
                                                         const std::string& account,
                                                         const std::string& region,
                                                         const std::string& identifier) const;
  // Ordered by identifier (the listing order and the pagination key).
  [[nodiscard]] std::vector<Record> list(ResourceKind kind, const std::string& account,
                                         const std::string& region) const;
  [[nodiscard]] std::vector<Record> list_all(ResourceKind kind) const;
  [[nodiscard]] std::int64_t count(ResourceKind kind, const std::string& account,
                                   const std::string& region) const;

  void insert(ResourceKind kind, const Record& record);
  void update(ResourceKind kind, const Record& record);
  void remove(ResourceKind kind, const std::string& arn);

  using Tags = std::vector<std::pair<std::string, std::string>>;
  [[nodiscard]] Tags tags(const std::string& arn) const;
  void put_tags(const std::string& arn, const Tags& tags);
  void remove_tags(const std::string& arn, const std::vector<std::string>& keys);

  // Table statistics of a task or a replication config, one JSON document per table
  // (dms::TableStatistics).
  [[nodiscard]] std::vector<nlohmann::json> table_statistics(const std::string& task_arn) const;
  void replace_table_statistics(const std::string& task_arn,
                                const std::vector<nlohmann::json>& tables);

  // Runs `body` in one transaction (rolled back if it throws).
  template <class F>
  void transaction(F&& body) {
    exec("BEGIN IMMEDIATE");
    try {
      body();
      exec("COMMIT");
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
  }

 private:
  void exec(const char* sql) const;
  void migrate();

  StateDirectoryLock lock_;  // first: taken before the state file is opened
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace dagster_dms::server
