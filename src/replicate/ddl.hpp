#pragma once

#include <string>
#include <string_view>

#include "replicate/catalog.hpp"
#include "replicate/table_mapping.hpp"

namespace dagster_dms::replicate {

// SQL text for identifiers and literals. Identifiers are always quoted, so names keep their case
// (DMS names are case-sensitive); literals assume standard_conforming_strings (on since 9.1).
std::string quote_ident(std::string_view name);
std::string quote_literal(std::string_view value);
std::string quote_qualified(const QualifiedName& name);

// Target preparation. Like DMS, only the table and its primary key are created: no secondary
// indexes, foreign keys, defaults or other constraints.
std::string create_schema_sql(std::string_view schema);
std::string create_table_sql(const TablePlan& plan);
std::string drop_table_sql(const QualifiedName& target);
std::string truncate_table_sql(const QualifiedName& target);
// A source column DDL replayed on the target. Idempotent (IF [NOT] EXISTS), so a transaction
// the target already has can be replayed; a new column is nullable, as DMS creates columns.
std::string add_column_sql(const QualifiedName& target, const MappedColumn& column);
std::string drop_column_sql(const QualifiedName& target, std::string_view column);
// The target column takes the source column's new type, its values cast as the source's were.
std::string alter_column_type_sql(const QualifiedName& target, const MappedColumn& column);

// `COPY (SELECT ...) TO STDOUT` on the source, in COPY's text format. With `for_files`, values
// are rendered the way the file target writes them (booleans as true/false, timestamps with
// microseconds, timestamptz in UTC).
std::string copy_out_sql(const TablePlan& plan, bool for_files);
// The SELECT inside copy_out_sql.
std::string select_sql(const TablePlan& plan, bool for_files);
// `COPY target (cols) FROM STDIN` on the target.
std::string copy_in_sql(const TablePlan& plan);

}  // namespace dagster_dms::replicate
