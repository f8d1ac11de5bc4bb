#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "aws/secret.hpp"

namespace dagster_dms::replicate {

// Where a PostgreSQL database lives, as a DMS endpoint describes it.
struct PgEndpoint {
  std::string host = "127.0.0.1";
  int port = 5432;
  std::string dbname;
  std::string user;
  aws::Secret password;
  std::string sslmode;  // empty: libpq's default
  // The CA the server's certificate must chain to (DMS's CertificateArn), as PEM text; used by
  // sslmode verify-ca and verify-full. Empty: libpq's default (~/.postgresql/root.crt).
  std::string ssl_root_certificate_pem;
  int connect_timeout_seconds = 10;

  // `user@host:port/dbname`: safe for logs and messages (never the password).
  [[nodiscard]] std::string describe() const;
};

// A failed statement or connection, with DMS's way of naming the driver error.
class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, const std::string& message);
  [[nodiscard]] const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// One libpq connection. Move-only; closed on destruction.
class PgConnection {
 public:
  // Throws PgError (SqlState 08001) when the server cannot be reached or refuses the login.
  // `replication` opens a logical replication connection (`replication=database`), which speaks
  // the walsender's commands (CREATE_REPLICATION_SLOT, START_REPLICATION) besides plain SQL.
  static PgConnection open(const PgEndpoint& endpoint, std::string_view application_name,
                           bool replication = false);
  // The same connection attempt without judging it: the result may be bad (`connected()` is
  // false, PQerrorMessage says why), for callers that word the failure themselves.
  static PgConnection attempt(const PgEndpoint& endpoint, std::string_view application_name,
                              bool replication = false);

  [[nodiscard]] bool connected() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
  // Why the attempt failed: libpq's first line, with a hint where TLS verification failed.
  [[nodiscard]] std::string connect_error() const;

  [[nodiscard]] PGconn* get() const { return conn_.get(); }
  [[nodiscard]] bool healthy() const;

  // Runs one statement; throws PgError unless it succeeded.
  PgResult exec(const std::string& sql);
  // Runs one statement with text parameters ($1, $2, ...); nullopt is SQL NULL.
  PgResult exec_params(const std::string& sql,
                       const std::vector<std::optional<std::string>>& params);

  // Turns a failed result (or, without one, the connection's last error) into a PgError.
  [[nodiscard]] PgError error_from(const PGresult* result) const;

 private:
  struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

// A target session whose COMMIT returns only once the commit is in the target's WAL. A server
// running with synchronous_commit=off acknowledges commits it can still lose to a crash or an
// immediate shutdown; a replicator that then tells the source slot "applied" would lose those
// changes for good. Other settings (on, remote_write, remote_apply) are kept.
void require_durable_commits(PgConnection& connection);

// Connections to a task's endpoints. A failure names the side in its message ("Error connecting
// to source database: ..."); the driver's SQLSTATE stays, so a database that is restarting is
// told from a wrong definition (see classify_error).
PgConnection open_task_source(const PgEndpoint& endpoint, std::string_view application_name,
                              bool replication = false);
// The target's session also commits durably (require_durable_commits).
PgConnection open_task_target(const PgEndpoint& endpoint, std::string_view application_name);

// libpq's first error line, without the trailing newline.
std::string first_line(std::string_view text);

}  // namespace dagster_dms::replicate
