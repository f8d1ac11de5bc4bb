#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "server/dms_api/identifiers.hpp"
#include "server/store/parsed_documents.hpp"

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

// A store write attempted inside a Store::ReadScope. The caller reruns its work as a writer.
class WriteInReadScope : public std::logic_error {
 public:
  WriteInReadScope() : std::logic_error("store write inside a read scope") {}
};

// dms-local's control-plane state: one SQLite file under the state directory, readable by its
// owner only (it holds endpoint passwords), served by one process at a time. Writes are not
// thread-safe (the service serializes its writers); reads inside a ReadScope may run on any
// number of threads beside them.
class Store {
 public:
  static constexpr int kSchemaVersion = 5;

  struct CloseConnection {
    void operator()(sqlite3* connection) const;
  };
  using Connection = std::unique_ptr<sqlite3, CloseConnection>;

  // A consistent read-only view of the store for the calling thread, on a connection of its
  // own. While it lives, this thread's reads see one snapshot and never wait for a writer (WAL
  // lets readers proceed beside the one writer), and any write throws WriteInReadScope.
  class ReadScope {
   public:
    explicit ReadScope(const Store& store);
    ~ReadScope();
    ReadScope(const ReadScope&) = delete;
    ReadScope& operator=(const ReadScope&) = delete;

   private:
    const Store& store_;
    Connection connection_;
  };
  // Whether the calling thread is inside a ReadScope (of any store).
  [[nodiscard]] static bool reading();

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
    begin_write();
    try {
      body();
      exec("COMMIT");
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
  }

 private:
  // The connection this thread reads with: its ReadScope's, else the writer's.
  [[nodiscard]] sqlite3* reader() const;
  // The writer's connection; throws WriteInReadScope inside a ReadScope.
  [[nodiscard]] sqlite3* writer() const;
  void exec(const char* sql) const;
  // BEGIN IMMEDIATE on the writer's connection; throws WriteInReadScope inside a ReadScope.
  void begin_write();
  void migrate();
  [[nodiscard]] Connection open_connection(int flags) const;
  [[nodiscard]] Connection take_read_connection() const;
  void return_read_connection(Connection connection) const;

  StateDirectoryLock lock_;  // first: taken before the state file is opened
  std::filesystem::path path_;
  Connection db_;
  // Read connections not in use; one is opened whenever every existing one is busy, so there
  // are at most as many as the server ever had concurrent readers.
  mutable std::mutex idle_readers_mutex_;
  mutable std::vector<Connection> idle_readers_;
  ParsedDocuments documents_;
};

}  // namespace dagster_dms::server
