#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <vector>

#include "replicate/catalog.hpp"
#include "replicate/copy_stream.hpp"
#include "replicate/table_mapping.hpp"

namespace dagster_dms::replicate {

// One connection to a source other than PostgreSQL, held by one full-load worker across the
// tables it loads.
class TableSourceSession {
 public:
  virtual ~TableSourceSession() = default;
  [[nodiscard]] virtual bool healthy() const = 0;
  // Streams the plan's rows (its columns, its selection filter) to `sink` in PostgreSQL's COPY
  // text format, row by row, as stream_copy_out does for a PostgreSQL source; `for_files`
  // renders values as the file target writes them. Stops (cancelled) soon after `stop` fires.
  virtual CopyOutcome copy_table(const TablePlan& plan, bool for_files, RowSink& sink,
                                 std::stop_token stop,
                                 const std::function<void(std::int64_t)>& on_rows) = 0;
};

// A source other than PostgreSQL (the MySQL family) as the full load reads it: its catalog, with
// column types already mapped to the PostgreSQL types DMS creates on the target, and sessions
// that stream tables. Implementations throw std::exception subclasses whose messages never hold
// a password.
class TableSource {
 public:
  virtual ~TableSource() = default;
  virtual std::vector<SourceTable> read_catalog(bool include_views) = 0;
  virtual double count_rows(const QualifiedName& table) = 0;
  virtual std::unique_ptr<TableSourceSession> open_session() = 0;
};

}  // namespace dagster_dms::replicate
