#include "replicate/mysql/table_source.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "replicate/ddl.hpp"
#include "replicate/mysql/binlog_rows.hpp"
#include "replicate/mysql/catalog.hpp"
#include "replicate/mysql/connection.hpp"
#include "replicate/mysql/type_mapping.hpp"

namespace dagster_dms::replicate::mysql {

namespace {

// Names in SQL for sessions in ANSI_QUOTES: the same quoting as PostgreSQL's.
std::string quoted_table(const QualifiedName& name) {
  return quote_qualified(name);
}

// A connection whose failure names the side, as the PostgreSQL source's do.
MySqlConnection open_source(const MySqlEndpoint& endpoint) {
  try {
    return MySqlConnection::open(endpoint);
  } catch (const MySqlError& error) {
    throw MySqlError(error.error_number(), error.sqlstate(),
                     fmt::format("Error connecting to source database {}: {}", endpoint.describe(),
                                 error.what()));
  }
}

class Session : public TableSourceSession {
 public:
  // `in_snapshot`: the session was opened in a shared snapshot that every table it reads keeps.
  Session(const MySqlEndpoint& endpoint, bool in_snapshot)
      : connection_(open_source(endpoint)), in_snapshot_(in_snapshot) {}

  MySqlConnection& connection() { return connection_; }

  [[nodiscard]] bool healthy() const override { return !broken_ && connection_.healthy(); }

  CopyOutcome copy_table(const TablePlan& plan, bool for_files, RowSink& sink, std::stop_token stop,
                         const std::function<void(std::int64_t)>& on_rows) override {
    std::vector<std::string> columns;
    std::vector<ValueEncoding> encodings;
    for (const auto& column : plan.columns) {
      columns.push_back(quote_ident(column.source.name));
      encodings.push_back(value_encoding(column.source.type));
    }
    std::string sql =
        fmt::format("SELECT {} FROM {}", fmt::join(columns, ", "), quoted_table(plan.source));
    if (!plan.source_filter.empty()) sql += " WHERE " + plan.source_filter;
    CopyOutcome outcome;
    if (!in_snapshot_) connection_.exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    const MySqlResult result = connection_.stream(sql);
    std::string line;
    while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
      if (stop.stop_requested()) {
        // The rest of the result would otherwise be read (and thrown away) before the
        // connection could be used again: shut it instead.
        broken_ = true;
        mariadb_cancel(connection_.get());
        outcome.cancelled = true;
        return outcome;
      }
      const unsigned long* lengths = mysql_fetch_lengths(result.get());
      line.clear();
      for (std::size_t i = 0; i < encodings.size(); ++i) {
        if (i > 0) line += '\t';
        append_copy_value(line, encodings[i], row[i], lengths[i], for_files);
      }
      line += '\n';
      sink.write_row(line);
      ++outcome.rows;
      outcome.bytes += line.size();
      if (outcome.rows % 10000 == 0) on_rows(outcome.rows);
    }
    if (mysql_errno(connection_.get()) != 0) {
      broken_ = true;
      throw connection_.error();
    }
    if (!in_snapshot_) connection_.exec("COMMIT");
    return outcome;
  }

 private:
  MySqlConnection connection_;
  bool in_snapshot_;
  bool broken_ = false;
};

}  // namespace

std::vector<SourceTable> MySqlTableSource::read_catalog(bool include_views) {
  auto connection = open_source(endpoint_);
  std::vector<SourceTable> out;
  for (auto& table : mysql::read_catalog(connection, endpoint_, include_views)) {
    out.push_back(std::move(table.table));
  }
  return out;
}

double MySqlTableSource::count_rows(const QualifiedName& table) {
  auto connection = open_source(endpoint_);
  const auto rows = connection.query("SELECT COUNT(*) FROM " + quoted_table(table));
  return rows.empty() || !rows[0][0] ? 0 : std::stod(*rows[0][0]);
}

std::unique_ptr<TableSourceSession> MySqlTableSource::open_session() {
  {
    const std::lock_guard lock(mutex_);
    if (!frozen_.empty()) {
      auto session = std::move(frozen_.back());
      frozen_.pop_back();
      return session;
    }
  }
  return std::make_unique<Session>(endpoint_, false);
}

std::pair<std::string, Lsn> MySqlTableSource::freeze_snapshot(std::size_t sessions) {
  auto lock_holder = open_source(endpoint_);
  lock_holder.exec("FLUSH TABLES WITH READ LOCK");
  std::vector<std::unique_ptr<TableSourceSession>> opened;
  for (std::size_t i = 0; i < std::max<std::size_t>(sessions, 1); ++i) {
    auto session = std::make_unique<Session>(endpoint_, true);
    session->connection().exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
    opened.push_back(std::move(session));
  }
  const auto status = lock_holder.query("SHOW MASTER STATUS");
  lock_holder.exec("UNLOCK TABLES");
  if (status.empty() || !status[0][0] || !status[0][1]) {
    throw MySqlError(0, "HY000",
                     "binary logging is off on the source (SHOW MASTER STATUS is empty)");
  }
  const std::string file = *status[0][0];
  const auto number = binlog_file_number(file).value_or(0);
  const auto offset = static_cast<std::uint32_t>(std::stoul(*status[0][1]));
  const std::lock_guard lock(mutex_);
  frozen_ = std::move(opened);
  return {file, pack_position(number, offset)};
}

void MySqlTableSource::release_snapshot() {
  const std::lock_guard lock(mutex_);
  frozen_.clear();
}

std::shared_ptr<MySqlTableSource> make_table_source(const MySqlEndpoint& endpoint) {
  return std::make_shared<MySqlTableSource>(endpoint);
}

}  // namespace dagster_dms::replicate::mysql
