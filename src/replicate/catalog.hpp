#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mapping/qualified_name.hpp"

namespace dagster_dms::replicate {

class PgConnection;

using mapping::QualifiedName;

// How a value must be rendered for a file target; PostgreSQL targets copy the text form as is.
enum class ValueKind { kOther, kBoolean, kTimestamp, kTimestampTz };

struct SourceColumn {
  std::string name;
  std::string type;  // format_type(): `numeric(12,2)`, `timestamp with time zone`, `text[]`...
  bool not_null = false;
  // A type outside pg_catalog (enum, domain, composite...); DMS creates those as varchar.
  bool user_defined = false;
  bool is_array = false;
  ValueKind kind = ValueKind::kOther;
};

struct SourceTable {
  QualifiedName name;
  bool is_view = false;
  std::vector<SourceColumn> columns;
  std::vector<std::string> primary_key;  // column names in key order
  double estimated_rows = -1;            // pg_class.reltuples; -1 when never analysed
};

// The names of the database's user schemas (what DMS's RefreshSchemas lists), sorted.
std::vector<std::string> read_schemas(PgConnection& connection);

// Reads every user table (and, when asked, view) with its columns and primary key.
std::vector<SourceTable> read_catalog(PgConnection& connection, bool include_views);

// A column by its type's oid and modifier (a column the change stream described), typed as
// read_catalog() types columns.
SourceColumn describe_column(PgConnection& connection, std::string name, std::uint32_t type_oid,
                             std::int32_t type_modifier);

// An exact row count, for tables whose size the statistics don't know.
double count_rows(PgConnection& connection, const QualifiedName& table);

}  // namespace dagster_dms::replicate
