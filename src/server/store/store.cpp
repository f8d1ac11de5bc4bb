#include "server/store/store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace dagster_dms::server {

namespace {

constexpr const char* kFileName = "dms-local.sqlite3";
constexpr const char* kLockFileName = "dms-local.lock";

std::string table_of(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kEndpoint:
      return "endpoints";
    case ResourceKind::kInstance:
      return "replication_instances";
    case ResourceKind::kTask:
      return "replication_tasks";
    case ResourceKind::kConnection:
      return "connections";
    case ResourceKind::kReplicationConfig:
      return "replication_configs";
    case ResourceKind::kSubnetGroup:
      return "replication_subnet_groups";
    case ResourceKind::kEvent:
      return "events";
    case ResourceKind::kEventSubscription:
      return "event_subscriptions";
    case ResourceKind::kCertificate:
      return "certificates";
    case ResourceKind::kAssessmentRun:
      return "replication_task_assessment_runs";
  }
  throw std::logic_error("unknown resource kind");
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(fmt::format("SQLite prepare failed: {}", sqlite3_errmsg(db)));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& value) {
    sqlite3_bind_text(stmt_, index, value.c_str(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  // True while a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(fmt::format("SQLite step failed: {}", sqlite3_errmsg(db_)));
  }
  // Valid until the next step.
  [[nodiscard]] std::string_view view(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    return data == nullptr
               ? std::string_view()
               : std::string_view(reinterpret_cast<const char*>(data),
                                  static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  [[nodiscard]] std::string text(int column) const { return std::string(view(column)); }
  [[nodiscard]] std::int64_t integer(int column) const {
    return sqlite3_column_int64(stmt_, column);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

constexpr const char* kRecordColumns = "arn, identifier, account, region, doc, internal";

// The store and connection of the calling thread's ReadScope, if it is in one.
struct ThreadReadScope {
  const Store* store = nullptr;
  sqlite3* connection = nullptr;
};
thread_local ThreadReadScope t_read_scope;

Record read_record(const Statement& statement, const ParsedDocuments& documents) {
  Record record;
  record.arn = statement.text(0);
  record.identifier = statement.text(1);
  record.account = statement.text(2);
  record.region = statement.text(3);
  record.doc = documents.parse(record.arn + " doc", statement.view(4));
  record.internal = documents.parse(record.arn + " internal", statement.view(5));
  return record;
}

}  // namespace

StateDirectoryLock::StateDirectoryLock(const std::filesystem::path& state_dir) {
  std::filesystem::create_directories(state_dir);
  const auto file = state_dir / kLockFileName;
  // Close-on-exec: a child process must not keep the directory locked after we exit.
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error(
        fmt::format("cannot open lock file {}: {}", file.string(), std::strerror(errno)));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    std::string holder;
    std::ifstream(file) >> holder;
    ::close(fd_);
    if (error == EWOULDBLOCK) {
      throw std::runtime_error(fmt::format(
          "state directory {} is already served by another dms-local{}; stop it or choose "
          "another --state-dir",
          state_dir.string(), holder.empty() ? "" : " (process " + holder + ")"));
    }
    throw std::runtime_error(
        fmt::format("cannot lock {}: {}", file.string(), std::strerror(error)));
  }
  // Who holds it, for the message above; informative only (the lock holds either way).
  const std::string pid = std::to_string(::getpid()) + "\n";
  [[maybe_unused]] const bool recorded =
      ::ftruncate(fd_, 0) == 0 && ::write(fd_, pid.data(), pid.size()) > 0;
}

StateDirectoryLock::~StateDirectoryLock() {
  ::close(fd_);  // releases the lock
}

Store::Store(const std::filesystem::path& state_dir)
    : lock_(state_dir), path_(state_dir / kFileName) {
  // Create the file owner-only before SQLite opens it; its -wal/-shm files copy these rights.
  const mode_t old_mask = ::umask(0077);
  try {
    db_ = open_connection(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX);
  } catch (...) {
    ::umask(old_mask);
    throw;
  }
  ::umask(old_mask);
  std::filesystem::permissions(
      path_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("PRAGMA foreign_keys=ON");
  migrate();
}

Store::~Store() = default;

void Store::CloseConnection::operator()(sqlite3* connection) const {
  sqlite3_close(connection);
}

Store::Connection Store::open_connection(int flags) const {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
  Connection connection(raw);
  if (rc != SQLITE_OK) {
    const std::string message = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
    throw std::runtime_error(fmt::format("cannot open state file {}: {}", path_.string(), message));
  }
  sqlite3_busy_timeout(raw, 5000);
  // Listings read every record of a kind (task documents carry their settings: several KB each,
  // in overflow pages). Through read() calls that is a copy of megabytes per request out of the
  // page cache on every connection; mapped, the pages are read where they are.
  sqlite3_exec(raw, "PRAGMA mmap_size=268435456", nullptr, nullptr, nullptr);
  return connection;
}

Store::Connection Store::take_read_connection() const {
  {
    const std::lock_guard lock(idle_readers_mutex_);
    if (!idle_readers_.empty()) {
      auto connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return connection;
    }
  }
  // One thread uses a read connection at a time: no SQLite mutex needed.
  return open_connection(SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
}

void Store::return_read_connection(Connection connection) const {
  const std::lock_guard lock(idle_readers_mutex_);
  idle_readers_.push_back(std::move(connection));
}

Store::ReadScope::ReadScope(const Store& store)
    : store_(store), connection_(store.take_read_connection()) {
  if (t_read_scope.store != nullptr) throw std::logic_error("nested store read scopes");
  // The snapshot begins with the first read and lasts until COMMIT.
  if (sqlite3_exec(connection_.get(), "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw std::runtime_error(fmt::format("SQLite failed: {}", sqlite3_errmsg(connection_.get())));
  }
  t_read_scope = {&store, connection_.get()};
}

Store::ReadScope::~ReadScope() {
  t_read_scope = {};
  // Ending a read-only transaction cannot fail in a way that matters: a connection that is
  // still inside one is dropped instead of reused.
  if (sqlite3_exec(connection_.get(), "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) {
    store_.return_read_connection(std::move(connection_));
  }
}

bool Store::reading() {
  return t_read_scope.store != nullptr;
}

sqlite3* Store::reader() const {
  return t_read_scope.store == this ? t_read_scope.connection : db_.get();
}

sqlite3* Store::writer() const {
  if (t_read_scope.store != nullptr) throw WriteInReadScope();
  return db_.get();
}

void Store::begin_write() {
  if (t_read_scope.store != nullptr) throw WriteInReadScope();
  exec("BEGIN IMMEDIATE");
}

void Store::exec(const char* sql) const {
  char* error = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error(fmt::format("SQLite failed: {}", message));
  }
}

void Store::migrate() {
  Statement version_query(db_.get(), "PRAGMA user_version");
  version_query.step();
  const auto version = version_query.integer(0);
  if (version > kSchemaVersion) {
    throw std::runtime_error(fmt::format(
        "state file {} has schema version {}, newer than this dms-local understands ({})",
        path_.string(), version, kSchemaVersion));
  }
  if (version == kSchemaVersion) return;
  transaction([&] {
    // IF NOT EXISTS: an older file gains the tables added since (connections, replication
    // configs, subnet groups, events) and keeps its data.
    for (const auto kind :
         {ResourceKind::kEndpoint, ResourceKind::kInstance, ResourceKind::kTask,
          ResourceKind::kConnection, ResourceKind::kReplicationConfig, ResourceKind::kSubnetGroup,
          ResourceKind::kEvent, ResourceKind::kEventSubscription, ResourceKind::kCertificate,
          ResourceKind::kAssessmentRun}) {
      const auto table = table_of(kind);
      exec(fmt::format("CREATE TABLE IF NOT EXISTS {0} (arn TEXT PRIMARY KEY, identifier TEXT NOT "
                       "NULL, account TEXT NOT NULL, region TEXT NOT NULL, doc TEXT NOT NULL, "
                       "internal TEXT NOT NULL, UNIQUE(account, region, identifier))",
                       table)
               .c_str());
    }
    exec(
        "CREATE TABLE IF NOT EXISTS tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT "
        "NULL, PRIMARY KEY(arn, key))");
    exec(
        "CREATE TABLE IF NOT EXISTS table_statistics (task_arn TEXT NOT NULL, position INTEGER "
        "NOT NULL, doc TEXT NOT NULL, PRIMARY KEY(task_arn, position))");
    exec(fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str());
  });
}

std::optional<Record> Store::find_by_arn(ResourceKind kind, const std::string& arn) const {
  Statement statement(
      reader(), fmt::format("SELECT {} FROM {} WHERE arn = ?", kRecordColumns, table_of(kind)));
  statement.bind(1, arn);
  if (!statement.step()) return std::nullopt;
  return read_record(statement, documents_);
}

std::optional<Record> Store::find_by_identifier(ResourceKind kind, const std::string& account,
                                                const std::string& region,
                                                const std::string& identifier) const {
  Statement statement(reader(),
                      fmt::format("SELECT {} FROM {} WHERE account = ? AND region = ? AND "
                                  "identifier = ?",
                                  kRecordColumns, table_of(kind)));
  statement.bind(1, account).bind(2, region).bind(3, identifier);
  if (!statement.step()) return std::nullopt;
  return read_record(statement, documents_);
}

std::vector<Record> Store::list(ResourceKind kind, const std::string& account,
                                const std::string& region) const {
  Statement statement(reader(),
                      fmt::format("SELECT {} FROM {} WHERE account = ? AND region = ? ORDER "
                                  "BY identifier",
                                  kRecordColumns, table_of(kind)));
  statement.bind(1, account).bind(2, region);
  std::vector<Record> out;
  while (statement.step()) out.push_back(read_record(statement, documents_));
  return out;
}

std::vector<Record> Store::list_all(ResourceKind kind) const {
  Statement statement(reader(),
                      fmt::format("SELECT {} FROM {} ORDER BY account, region, identifier",
                                  kRecordColumns, table_of(kind)));
  std::vector<Record> out;
  while (statement.step()) out.push_back(read_record(statement, documents_));
  return out;
}

std::int64_t Store::count(ResourceKind kind, const std::string& account,
                          const std::string& region) const {
  Statement statement(
      reader(),
      fmt::format("SELECT COUNT(*) FROM {} WHERE account = ? AND region = ?", table_of(kind)));
  statement.bind(1, account).bind(2, region);
  statement.step();
  return statement.integer(0);
}

void Store::insert(ResourceKind kind, const Record& record) {
  Statement statement(writer(), fmt::format("INSERT INTO {} ({}) VALUES (?, ?, ?, ?, ?, ?)",
                                            table_of(kind), kRecordColumns));
  statement.bind(1, record.arn)
      .bind(2, record.identifier)
      .bind(3, record.account)
      .bind(4, record.region)
      .bind(5, record.doc.dump())
      .bind(6, record.internal.dump());
  statement.step();
}

void Store::update(ResourceKind kind, const Record& record) {
  Statement statement(writer(), fmt::format("UPDATE {} SET identifier = ?, doc = ?, internal = ? "
                                            "WHERE arn = ?",
                                            table_of(kind)));
  statement.bind(1, record.identifier)
      .bind(2, record.doc.dump())
      .bind(3, record.internal.dump())
      .bind(4, record.arn);
  statement.step();
}

void Store::remove(ResourceKind kind, const std::string& arn) {
  Statement statement(writer(), fmt::format("DELETE FROM {} WHERE arn = ?", table_of(kind)));
  statement.bind(1, arn);
  statement.step();
  Statement tags(writer(), "DELETE FROM tags WHERE arn = ?");
  tags.bind(1, arn);
  tags.step();
  Statement stats(writer(), "DELETE FROM table_statistics WHERE task_arn = ?");
  stats.bind(1, arn);
  stats.step();
}

Store::Tags Store::tags(const std::string& arn) const {
  Statement statement(reader(), "SELECT key, value FROM tags WHERE arn = ? ORDER BY key");
  statement.bind(1, arn);
  Tags out;
  while (statement.step()) out.emplace_back(statement.text(0), statement.text(1));
  return out;
}

void Store::put_tags(const std::string& arn, const Tags& tags) {
  for (const auto& [key, value] : tags) {
    Statement statement(writer(),
                        "INSERT INTO tags (arn, key, value) VALUES (?, ?, ?) ON CONFLICT(arn, "
                        "key) DO UPDATE SET value = excluded.value");
    statement.bind(1, arn).bind(2, key).bind(3, value);
    statement.step();
  }
}

void Store::remove_tags(const std::string& arn, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    Statement statement(writer(), "DELETE FROM tags WHERE arn = ? AND key = ?");
    statement.bind(1, arn).bind(2, key);
    statement.step();
  }
}

std::vector<nlohmann::json> Store::table_statistics(const std::string& task_arn) const {
  Statement statement(reader(),
                      "SELECT doc FROM table_statistics WHERE task_arn = ? ORDER BY position");
  statement.bind(1, task_arn);
  std::vector<nlohmann::json> out;
  while (statement.step()) out.push_back(nlohmann::json::parse(statement.text(0)));
  return out;
}

void Store::replace_table_statistics(const std::string& task_arn,
                                     const std::vector<nlohmann::json>& tables) {
  Statement clear(writer(), "DELETE FROM table_statistics WHERE task_arn = ?");
  clear.bind(1, task_arn);
  clear.step();
  for (std::size_t i = 0; i < tables.size(); ++i) {
    Statement statement(writer(),
                        "INSERT INTO table_statistics (task_arn, position, doc) VALUES (?, ?, ?)");
    statement.bind(1, task_arn).bind(2, std::to_string(i)).bind(3, tables[i].dump());
    statement.step();
  }
}

}  // namespace dagster_dms::server
