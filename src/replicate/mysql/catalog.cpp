#include "replicate/mysql/catalog.hpp"

#include <fmt/format.h>

#include <map>

#include "replicate/mysql/binlog_rows.hpp"
#include "replicate/mysql/type_mapping.hpp"

namespace dagster_dms::replicate::mysql {

namespace {

// The server's own databases: never replicated.
constexpr const char* kSystemSchemas =
    "('mysql', 'information_schema', 'performance_schema', 'sys')";

int to_int(const std::optional<std::string>& value) {
  return value ? static_cast<int>(std::stoll(*value)) : 0;
}

std::string schema_condition(const MySqlEndpoint& endpoint, std::string_view column) {
  if (endpoint.database.empty()) return fmt::format("{} NOT IN {}", column, kSystemSchemas);
  return fmt::format("{} = {}", column, quote_mysql_literal(endpoint.database));
}

}  // namespace

std::vector<CatalogTable> read_catalog(MySqlConnection& connection, const MySqlEndpoint& endpoint,
                                       bool include_views) {
  std::map<std::pair<std::string, std::string>, CatalogTable> tables;
  const auto rows = connection.query(
      fmt::format("SELECT c.TABLE_SCHEMA, c.TABLE_NAME, t.TABLE_TYPE, t.TABLE_ROWS, c.COLUMN_NAME, "
                  "LOWER(c.DATA_TYPE), LOWER(c.COLUMN_TYPE), c.CHARACTER_MAXIMUM_LENGTH, "
                  "c.NUMERIC_PRECISION, c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.IS_NULLABLE, "
                  "c.CHARACTER_SET_NAME, c.COLUMN_TYPE "
                  "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
                  "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
                  "WHERE {} ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION",
                  schema_condition(endpoint, "c.TABLE_SCHEMA")));
  for (const auto& row : rows) {
    const bool is_view = row[2].value_or("") == "VIEW";
    if (is_view && !include_views) continue;
    auto& entry = tables[{*row[0], *row[1]}];
    auto& table = entry.table;
    if (table.columns.empty()) {
      table.name = QualifiedName{*row[0], *row[1]};
      table.is_view = is_view;
      table.estimated_rows = row[3] ? std::stod(*row[3]) : -1;
    }
    MySqlColumnType type;
    type.data_type = row[5].value_or("");
    type.column_type = row[6].value_or("");
    type.character_length = row[7] ? std::stoll(*row[7]) : 0;
    type.numeric_precision = to_int(row[8]);
    type.numeric_scale = to_int(row[9]);
    type.datetime_precision = to_int(row[10]);
    const auto mapped = map_column_type(type);
    SourceColumn column;
    column.name = *row[4];
    column.type = mapped.target_type;
    column.kind = mapped.kind;
    column.not_null = row[11].value_or("YES") == "NO";
    table.columns.push_back(std::move(column));
    ColumnDetail detail;
    detail.is_unsigned = type.column_type.find("unsigned") != std::string::npos;
    detail.charset = row[12].value_or("");
    if (type.data_type == "enum" || type.data_type == "set") {
      detail.labels = parse_labels(row[13].value_or(""));
    }
    entry.details.push_back(std::move(detail));
  }
  const auto keys = connection.query(fmt::format(
      "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
      "WHERE CONSTRAINT_NAME = 'PRIMARY' AND {} "
      "ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
      schema_condition(endpoint, "TABLE_SCHEMA")));
  for (const auto& row : keys) {
    const auto found = tables.find({*row[0], *row[1]});
    if (found != tables.end()) found->second.table.primary_key.push_back(*row[2]);
  }
  std::vector<CatalogTable> out;
  out.reserve(tables.size());
  for (auto& [name, table] : tables) out.push_back(std::move(table));
  return out;
}

}  // namespace dagster_dms::replicate::mysql
