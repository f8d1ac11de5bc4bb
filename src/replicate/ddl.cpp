#include "replicate/ddl.hpp"

#include <fmt/format.h>

#include <vector>

namespace dagster_dms::replicate {

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string quote_literal(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + '\'';
}

std::string quote_qualified(const QualifiedName& name) {
  return quote_ident(name.schema) + "." + quote_ident(name.table);
}

std::string create_schema_sql(std::string_view schema) {
  return "CREATE SCHEMA IF NOT EXISTS " + quote_ident(schema);
}

std::string create_table_sql(const TablePlan& plan) {
  std::vector<std::string> parts;
  for (const auto& column : plan.columns) {
    parts.push_back(quote_ident(column.target_name) + " " + column.target_type +
                    (column.source.not_null ? " NOT NULL" : ""));
  }
  if (!plan.primary_key.empty()) {
    std::vector<std::string> key;
    for (const auto& name : plan.primary_key) key.push_back(quote_ident(name));
    parts.push_back(fmt::format("PRIMARY KEY ({})", fmt::join(key, ", ")));
  }
  return fmt::format("CREATE TABLE {} ({})", quote_qualified(plan.target), fmt::join(parts, ", "));
}

std::string drop_table_sql(const QualifiedName& target) {
  return "DROP TABLE IF EXISTS " + quote_qualified(target);
}

std::string truncate_table_sql(const QualifiedName& target) {
  return "TRUNCATE TABLE " + quote_qualified(target);
}

std::string add_column_sql(const QualifiedName& target, const MappedColumn& column) {
  return fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}", quote_qualified(target),
                     quote_ident(column.target_name), column.target_type);
}

std::string drop_column_sql(const QualifiedName& target, std::string_view column) {
  return fmt::format("ALTER TABLE {} DROP COLUMN IF EXISTS {}", quote_qualified(target),
                     quote_ident(column));
}

std::string alter_column_type_sql(const QualifiedName& target, const MappedColumn& column) {
  const auto name = quote_ident(column.target_name);
  return fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}", quote_qualified(target),
                     name, column.target_type, name, column.target_type);
}

namespace {

std::string file_projection(const MappedColumn& column) {
  std::string name = quote_ident(column.source.name);
  // to_char has no form for infinite timestamps; those keep PostgreSQL's own spelling.
  switch (column.source.kind) {
    case ValueKind::kBoolean:
      return fmt::format("CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' END", name);
    case ValueKind::kTimestamp:
      return fmt::format(
          "CASE WHEN isfinite({0}) THEN to_char({0}, 'YYYY-MM-DD HH24:MI:SS.US') ELSE {0}::text "
          "END",
          name);
    case ValueKind::kTimestampTz:
      return fmt::format(
          "CASE WHEN isfinite({0}) THEN to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD "
          "HH24:MI:SS.US') ELSE {0}::text END",
          name);
    case ValueKind::kOther:
      break;
  }
  return name;
}

}  // namespace

std::string select_sql(const TablePlan& plan, bool for_files) {
  std::vector<std::string> columns;
  for (const auto& column : plan.columns) {
    columns.push_back(for_files ? file_projection(column) : quote_ident(column.source.name));
  }
  std::string select =
      fmt::format("SELECT {} FROM {}", fmt::join(columns, ", "), quote_qualified(plan.source));
  if (!plan.source_filter.empty()) select += " WHERE " + plan.source_filter;
  return select;
}

std::string copy_out_sql(const TablePlan& plan, bool for_files) {
  return "COPY (" + select_sql(plan, for_files) + ") TO STDOUT";
}

std::string copy_in_sql(const TablePlan& plan) {
  std::vector<std::string> columns;
  for (const auto& column : plan.columns) columns.push_back(quote_ident(column.target_name));
  return fmt::format("COPY {} ({}) FROM STDIN", quote_qualified(plan.target),
                     fmt::join(columns, ", "));
}

}  // namespace dagster_dms::replicate
