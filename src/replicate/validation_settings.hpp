#pragma once

#include <string>
#include <string_view>

namespace dagster_dms::replicate {

// ReplicationTaskSettings.ValidationSettings as a run uses them, merged over DMS's defaults
// (task_settings_defaults.cpp).
struct ValidationSettings {
  bool enabled = false;                   // EnableValidation
  int thread_count = 0;                   // ThreadCount: partitions compared at once
  long long partition_size = 0;           // PartitionSize: rows compared per partition
  long long failure_max_count = 0;        // FailureMaxCount: the task's validation is suspended
  long long table_failure_max_count = 0;  // TableFailureMaxCount: one table's is suspended
  bool validation_only = false;           // ValidationOnly: compare, never move data
  bool handle_collation_diff = false;     // HandleCollationDiff
  bool skip_lob_columns = false;          // SkipLobColumns
  int cdc_delay_seconds = 0;              // ValidationQueryCdcDelaySeconds
};

// Reads the ValidationSettings section of a ReplicationTaskSettings document (empty text = all
// defaults). Throws std::invalid_argument naming the member for a wrong type or range, and for a
// ValidationMode other than ROW_LEVEL (the only one DMS accepts). ValidationOnly forces
// ValidationQueryCdcDelaySeconds to 180, as DMS does.
ValidationSettings parse_validation_settings(std::string_view settings_json);

// DMS's rules for a task's ValidationSettings against the rest of its definition; empty when the
// settings are fine, else the message to answer (InvalidParameterValueException).
// ValidationOnly needs TargetTablePrepMode DO_NOTHING and migration type full-load or cdc.
std::string validation_settings_problem(std::string_view settings_json,
                                        std::string_view migration_type);

}  // namespace dagster_dms::replicate
