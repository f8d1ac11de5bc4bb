#include "replicate/validation_failures.hpp"

#include <fmt/format.h>

#include "replicate/ddl.hpp"
#include "replicate/pg_connection.hpp"

namespace dagster_dms::replicate {

ValidationFailureTable::ValidationFailureTable(PgConnection& target,
                                               const std::string& control_schema,
                                               std::string task_name)
    : target_(target), task_name_(std::move(task_name)) {
  const std::string schema = control_schema.empty() ? kValidationControlSchema : control_schema;
  table_ = quote_qualified(QualifiedName{schema, "awsdms_validation_failures_v1"});
  try {
    target_.exec(create_schema_sql(schema));
    target_.exec(fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (\"TASK_NAME\" varchar(128) NOT NULL, \"TABLE_OWNER\" "
        "varchar(128) NOT NULL, \"TABLE_NAME\" varchar(128) NOT NULL, \"FAILURE_TIME\" "
        "timestamp(6) NOT NULL, \"KEY_TYPE\" varchar(128) NOT NULL, \"KEY\" text NOT NULL, "
        "\"FAILURE_TYPE\" varchar(128) NOT NULL, \"DETAILS\" text NOT NULL)",
        table_));
  } catch (const PgError& error) {
    // Another run created it at the same moment (IF NOT EXISTS does not lock).
    if (error.sqlstate() != "23505" && error.sqlstate() != "42P07") throw;
  }
}

void ValidationFailureTable::record(const QualifiedName& source_table,
                                    const std::vector<RowFailure>& failures) {
  if (failures.empty()) return;
  // One statement per batch: the rows arrive as parallel arrays.
  std::string keys = "{", types = "{", details = "{";
  const auto element = [](const std::string& value) {
    std::string out = "\"";
    for (const char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  for (std::size_t i = 0; i < failures.size(); ++i) {
    const char* separator = i == 0 ? "" : ",";
    keys += separator + element(failure_key_json(failures[i].key));
    types += separator + element(std::string(failure_type_name(failures[i].type)));
    details += separator + element(failures[i].details);
  }
  keys += "}";
  types += "}";
  details += "}";
  target_.exec_params(
      fmt::format("INSERT INTO {} (\"TASK_NAME\", \"TABLE_OWNER\", \"TABLE_NAME\", "
                  "\"FAILURE_TIME\", \"KEY_TYPE\", \"KEY\", \"FAILURE_TYPE\", \"DETAILS\") "
                  "SELECT $1, $2, $3, clock_timestamp() AT TIME ZONE 'UTC', 'Row', k, t, d "
                  "FROM unnest($4::text[], $5::text[], $6::text[]) AS f(k, t, d)",
                  table_),
      {task_name_, source_table.schema, source_table.table, keys, types, details});
}

}  // namespace dagster_dms::replicate
