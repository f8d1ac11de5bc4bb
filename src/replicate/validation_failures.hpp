#pragma once

#include <string>
#include <vector>

#include "replicate/catalog.hpp"
#include "replicate/validation_rules.hpp"

namespace dagster_dms::replicate {

// DMS's schema for awsdms_validation_failures_v1 when ControlTablesSettings.ControlSchema is
// empty.
inline constexpr const char* kValidationControlSchema = "awsdms_control";

// The target's awsdms_validation_failures_v1: one row per record that failed validation, with
// DMS's columns (TASK_NAME, TABLE_OWNER, TABLE_NAME, FAILURE_TIME, KEY_TYPE, KEY, FAILURE_TYPE,
// DETAILS). The table is created when missing; rows are only ever added, as DMS does.
class ValidationFailureTable {
 public:
  // `control_schema` empty: kValidationControlSchema. `task_name` is the task resource id.
  ValidationFailureTable(PgConnection& target, const std::string& control_schema,
                         std::string task_name);

  // Records the failures of one source table (TABLE_OWNER and TABLE_NAME name the source).
  void record(const QualifiedName& source_table, const std::vector<RowFailure>& failures);

  [[nodiscard]] const std::string& table() const { return table_; }

 private:
  PgConnection& target_;
  std::string table_;
  std::string task_name_;
};

}  // namespace dagster_dms::replicate
