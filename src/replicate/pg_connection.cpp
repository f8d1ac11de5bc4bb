#include "replicate/pg_connection.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace dagster_dms::replicate {

std::string PgEndpoint::describe() const {
  return fmt::format("{}@{}:{}/{}", user, host, port, dbname);
}

PgError::PgError(std::string sqlstate, const std::string& message)
    : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}

std::string first_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text.substr(0, text.find('\n')));
}

namespace {

// libpq reads a root certificate from a file only: the endpoint's CA goes to a file of its own,
// readable by this user only, that lives for one connection attempt (libpq has read it once the
// handshake is over).
class RootCertificateFile {
 public:
  explicit RootCertificateFile(const std::string& pem) {
    if (pem.empty()) return;
    auto pattern = (std::filesystem::temp_directory_path() / "dms-local-ca-XXXXXX").string();
    const int fd = mkstemp(pattern.data());  // created 0600
    if (fd < 0) {
      throw PgError("08001", fmt::format("cannot write the endpoint's CA certificate to a "
                                         "temporary file: {}",
                                         std::strerror(errno)));
    }
    path_ = pattern;
    std::size_t written = 0;
    while (written < pem.size()) {
      const auto n = ::write(fd, pem.data() + written, pem.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (written != pem.size()) {
      throw PgError("08001", "cannot write the endpoint's CA certificate to a temporary file");
    }
  }
  ~RootCertificateFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  RootCertificateFile(const RootCertificateFile&) = delete;
  RootCertificateFile& operator=(const RootCertificateFile&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool verifies_server(const std::string& sslmode) {
  return sslmode == "verify-ca" || sslmode == "verify-full";
}

}  // namespace

PgConnection PgConnection::attempt(const PgEndpoint& endpoint, std::string_view application_name,
                                   bool replication) {
  // Keyword arrays rather than a connection string: no quoting rules to get wrong, and the
  // password never passes through a string we might print.
  const std::string port = std::to_string(endpoint.port);
  const std::string timeout = std::to_string(endpoint.connect_timeout_seconds);
  const std::string app(application_name);
  std::vector<const char*> keys{
      "host", "port", "dbname", "user", "connect_timeout", "application_name", "client_encoding"};
  std::vector<const char*> values{endpoint.host.c_str(),
                                  port.c_str(),
                                  endpoint.dbname.c_str(),
                                  endpoint.user.c_str(),
                                  timeout.c_str(),
                                  app.c_str(),
                                  "UTF8"};
  if (!endpoint.password.empty()) {
    keys.push_back("password");
    values.push_back(endpoint.password.reveal().c_str());
  }
  if (replication) {
    keys.push_back("replication");
    values.push_back("database");
  }
  if (!endpoint.sslmode.empty()) {
    keys.push_back("sslmode");
    values.push_back(endpoint.sslmode.c_str());
  }
  // Only the verifying modes get the CA: with a root certificate at hand libpq would verify
  // under `require` too, which DMS's `require` (encrypt, trust any server) does not.
  const RootCertificateFile root_certificate(
      verifies_server(endpoint.sslmode) ? endpoint.ssl_root_certificate_pem : std::string());
  if (!root_certificate.path().empty()) {
    keys.push_back("sslrootcert");
    values.push_back(root_certificate.path().c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  return PgConnection(PQconnectdbParams(keys.data(), values.data(), 0));
}

PgConnection PgConnection::open(const PgEndpoint& endpoint, std::string_view application_name,
                                bool replication) {
  auto connection = attempt(endpoint, application_name, replication);
  if (!connection.conn_) throw PgError("08001", "out of memory creating a PostgreSQL connection");
  if (!connection.connected()) {
    throw PgError("08001",
                  fmt::format("Failed to connect to {}: RetCode: SQL_ERROR SqlState: 08001 "
                              "NativeError: 101 Message: {}",
                              endpoint.describe(), connection.connect_error()));
  }
  return connection;
}

std::string PgConnection::connect_error() const {
  if (!conn_) return "out of memory creating a PostgreSQL connection";
  auto text = first_line(PQerrorMessage(conn_.get()));
  // libpq's words for a server certificate the CA did not sign leave out which CA that was.
  if (text.find("certificate verify failed") != std::string::npos) {
    text +=
        " (the server's certificate does not chain to the CA certificate named by the "
        "endpoint's CertificateArn)";
  }
  return text;
}

bool PgConnection::healthy() const {
  return conn_ && PQstatus(conn_.get()) == CONNECTION_OK &&
         PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

void require_durable_commits(PgConnection& connection) {
  const auto current = connection.exec("SHOW synchronous_commit");
  if (std::string_view(PQgetvalue(current.get(), 0, 0)) == "off") {
    connection.exec("SET synchronous_commit = local");
  }
}

PgError PgConnection::error_from(const PGresult* result) const {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* text = result ? PQresultErrorMessage(result) : nullptr;
  if (text == nullptr || *text == '\0') text = PQerrorMessage(conn_.get());
  // A connection that ended between two messages leaves libpq nothing to say.
  if (*text == '\0' && PQstatus(conn_.get()) == CONNECTION_BAD) {
    text = "the connection to the server was lost";
  }
  const std::string sqlstate = state ? state : "08006";
  return PgError(sqlstate, fmt::format("RetCode: SQL_ERROR SqlState: {} NativeError: 1 Message: {}",
                                       sqlstate, first_line(text)));
}

namespace {
bool succeeded(const PGresult* result) {
  const auto status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}
}  // namespace

PgResult PgConnection::exec(const std::string& sql) {
  PgResult result(PQexec(conn_.get(), sql.c_str()));
  if (!result || !succeeded(result.get())) throw error_from(result.get());
  return result;
}

PgResult PgConnection::exec_params(const std::string& sql,
                                   const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  PgResult result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0));
  if (!result || !succeeded(result.get())) throw error_from(result.get());
  return result;
}

namespace {

// Opens a connection and readies its session with `ready`; a failure of either names `side`.
template <class Ready>
PgConnection open_endpoint(std::string_view side, const PgEndpoint& endpoint,
                           std::string_view application_name, bool replication, Ready ready) {
  try {
    auto connection = PgConnection::open(endpoint, application_name, replication);
    ready(connection);
    return connection;
  } catch (const PgError& error) {
    throw PgError(error.sqlstate(),
                  fmt::format("Error connecting to {} database: {}", side, error.what()));
  }
}

}  // namespace

PgConnection open_task_source(const PgEndpoint& endpoint, std::string_view application_name,
                              bool replication) {
  return open_endpoint("source", endpoint, application_name, replication,
                       [](PgConnection& /*connection*/) {});
}

PgConnection open_task_target(const PgEndpoint& endpoint, std::string_view application_name) {
  return open_endpoint("target", endpoint, application_name, false, require_durable_commits);
}

}  // namespace dagster_dms::replicate
