#include "replicate/catalog.hpp"

#include <cstdlib>
#include <map>

#include "replicate/ddl.hpp"
#include "replicate/pg_connection.hpp"

namespace dagster_dms::replicate {
namespace {

constexpr const char* kUserSchemas =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
    "AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

std::string value(const PGresult* result, int row, int column) {
  return PQgetvalue(result, row, column);
}

bool flag(const PGresult* result, int row, int column) {
  return value(result, row, column) == "t";
}

}  // namespace

std::vector<std::string> read_schemas(PgConnection& connection) {
  const auto schemas = connection.exec(std::string("SELECT n.nspname FROM pg_namespace n WHERE ") +
                                       kUserSchemas + " ORDER BY n.nspname COLLATE \"C\"");
  std::vector<std::string> out;
  for (int row = 0; row < PQntuples(schemas.get()); ++row) {
    out.push_back(value(schemas.get(), row, 0));
  }
  return out;
}

std::vector<SourceTable> read_catalog(PgConnection& connection, bool include_views) {
  const std::string kinds = include_views ? "'r', 'p', 'v', 'm'" : "'r', 'p'";
  const auto tables = connection.exec(
      std::string("SELECT c.oid, n.nspname, c.relname, c.relkind IN ('v', 'm'), "
                  "c.reltuples::float8 FROM pg_class c JOIN pg_namespace n ON n.oid = "
                  "c.relnamespace WHERE c.relkind IN (") +
      kinds + ") AND " + kUserSchemas + " ORDER BY n.nspname, c.relname");
  std::vector<SourceTable> out;
  std::map<std::string, std::size_t> by_oid;
  for (int row = 0; row < PQntuples(tables.get()); ++row) {
    SourceTable table;
    table.name = {value(tables.get(), row, 1), value(tables.get(), row, 2)};
    table.is_view = flag(tables.get(), row, 3);
    table.estimated_rows = std::strtod(PQgetvalue(tables.get(), row, 4), nullptr);
    by_oid[value(tables.get(), row, 0)] = out.size();
    out.push_back(std::move(table));
  }

  // Element types decide array handling; a type's schema tells built-in from user-defined.
  const auto columns = connection.exec(
      std::string(
          "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
          "coalesce(et.typnamespace, t.typnamespace) <> 'pg_catalog'::regnamespace, "
          "et.oid IS NOT NULL, coalesce(et.oid, t.oid)::regtype::text "
          "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
          "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
          "LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A' "
          "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN (") +
      kinds + ") AND " + kUserSchemas + " ORDER BY a.attrelid, a.attnum");
  for (int row = 0; row < PQntuples(columns.get()); ++row) {
    const auto found = by_oid.find(value(columns.get(), row, 0));
    if (found == by_oid.end()) continue;
    SourceColumn column;
    column.name = value(columns.get(), row, 1);
    column.type = value(columns.get(), row, 2);
    column.not_null = flag(columns.get(), row, 3);
    column.user_defined = flag(columns.get(), row, 4);
    column.is_array = flag(columns.get(), row, 5);
    const std::string base = value(columns.get(), row, 6);
    if (!column.is_array) {
      if (base == "boolean") column.kind = ValueKind::kBoolean;
      if (base == "timestamp without time zone") column.kind = ValueKind::kTimestamp;
      if (base == "timestamp with time zone") column.kind = ValueKind::kTimestampTz;
    }
    out[found->second].columns.push_back(std::move(column));
  }

  const auto keys = connection.exec(
      "SELECT con.conrelid, a.attname FROM pg_constraint con "
      "CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) "
      "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum "
      "WHERE con.contype = 'p' ORDER BY con.conrelid, k.ord");
  for (int row = 0; row < PQntuples(keys.get()); ++row) {
    const auto found = by_oid.find(value(keys.get(), row, 0));
    if (found != by_oid.end()) out[found->second].primary_key.push_back(value(keys.get(), row, 1));
  }
  return out;
}

SourceColumn describe_column(PgConnection& connection, std::string name, std::uint32_t type_oid,
                             std::int32_t type_modifier) {
  const auto result = connection.exec_params(
      "SELECT format_type(t.oid, $2::int), "
      "coalesce(et.typnamespace, t.typnamespace) <> 'pg_catalog'::regnamespace, "
      "et.oid IS NOT NULL, coalesce(et.oid, t.oid)::regtype::text "
      "FROM pg_type t LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A' "
      "WHERE t.oid = $1::oid",
      {std::to_string(type_oid), std::to_string(type_modifier)});
  SourceColumn out;
  out.name = std::move(name);
  if (PQntuples(result.get()) == 0) {
    out.type = "text";
    return out;
  }
  out.type = value(result.get(), 0, 0);
  out.user_defined = flag(result.get(), 0, 1);
  out.is_array = flag(result.get(), 0, 2);
  const std::string base = value(result.get(), 0, 3);
  if (!out.is_array) {
    if (base == "boolean") out.kind = ValueKind::kBoolean;
    if (base == "timestamp without time zone") out.kind = ValueKind::kTimestamp;
    if (base == "timestamp with time zone") out.kind = ValueKind::kTimestampTz;
  }
  return out;
}

double count_rows(PgConnection& connection, const QualifiedName& table) {
  const auto result = connection.exec("SELECT count(*) FROM " + quote_qualified(table));
  return std::strtod(PQgetvalue(result.get(), 0, 0), nullptr);
}

}  // namespace dagster_dms::replicate
