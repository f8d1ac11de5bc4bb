#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "replicate/mysql/mysql_endpoint.hpp"
#include "replicate/pgoutput.hpp"
#include "replicate/table_source.hpp"

namespace dagster_dms::replicate::mysql {

// A MySQL-family database as a full-load source: each MySQL database is a DMS schema (the
// endpoint's DatabaseName, when set, limits the catalog to that one), column types are mapped
// as DMS maps them to PostgreSQL (type_mapping.hpp), and tables stream row by row.
//
// Each table is read in a consistent snapshot (START TRANSACTION WITH CONSISTENT SNAPSHOT). For a
// load that change capture continues, freeze_snapshot() first opens every session the load will
// use in one snapshot and says where in the binary log it stands.
class MySqlTableSource : public TableSource {
 public:
  explicit MySqlTableSource(MySqlEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  std::vector<SourceTable> read_catalog(bool include_views) override;
  double count_rows(const QualifiedName& table) override;
  std::unique_ptr<TableSourceSession> open_session() override;

  // Opens `sessions` sessions in one snapshot while a global read lock (FLUSH TABLES WITH READ
  // LOCK, which needs the RELOAD privilege) holds writes back for a moment, and returns the
  // binary log position of that snapshot with the log's file name. The load's sessions are
  // then these, and every table it reads is as of that position.
  std::pair<std::string, Lsn> freeze_snapshot(std::size_t sessions);
  // Closes the frozen sessions the load did not take (their snapshot would hold back purge).
  void release_snapshot();

  [[nodiscard]] const MySqlEndpoint& endpoint() const { return endpoint_; }

 private:
  MySqlEndpoint endpoint_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<TableSourceSession>> frozen_;  // sessions in the frozen snapshot
};

// Throws std::runtime_error when this build has no MySQL support (see mysql_support_built).
std::shared_ptr<MySqlTableSource> make_table_source(const MySqlEndpoint& endpoint);

}  // namespace dagster_dms::replicate::mysql
