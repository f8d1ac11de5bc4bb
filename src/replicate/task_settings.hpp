#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "replicate/recoverable_errors.hpp"

namespace dagster_dms::replicate {

enum class TablePrepMode { kDropAndCreate, kTruncateBeforeLoad, kDoNothing };

// FullLoadSettings.StopTaskCachedChanges{Applied,NotApplied}: whether a full-load-and-cdc task
// stops after its load, before or after applying the changes made during it.
enum class StopAfterLoad { kNo, kCachedChangesNotApplied, kCachedChangesApplied };

// The parts of ReplicationTaskSettings that steer a full load, with DMS's service defaults.
struct FullLoadSettings {
  TablePrepMode prep_mode = TablePrepMode::kDropAndCreate;
  int max_subtasks = 8;                // FullLoadSettings.MaxFullLoadSubTasks (1-49)
  std::uint64_t load_max_file_kb = 0;  // TargetMetadata.LoadMaxFileSize; 0 = the target's own
  std::string target_schema;           // TargetMetadata.TargetSchema; empty = source schema
  std::string control_schema;     // ControlTablesSettings.ControlSchema; empty = target's default
  bool fail_on_no_tables = true;  // ErrorBehavior.FailOnNoTablesCaptured
  bool stop_task_on_table_error = false;  // ErrorBehavior.TableErrorPolicy == STOP_TASK
  int table_error_escalation_count = 0;   // ErrorBehavior.TableErrorEscalationCount; 0 = never
  // When both flags are set, the applied variant wins (the changes are not thrown away).
  StopAfterLoad stop_after_load = StopAfterLoad::kNo;
  // ChangeProcessingDdlHandlingPolicy: whether CDC replays a source TRUNCATE or column change
  // (ADD/DROP COLUMN) on the target. A change not replayed is still counted (Ddls).
  bool handle_source_table_truncated = true;
  bool handle_source_table_altered = true;
  // ErrorBehavior.Recoverable*: how a run retries lost connections (full load and CDC alike).
  RecoverableErrorPolicy recoverable;
};

// Reads a ReplicationTaskSettings JSON document (empty text = all defaults). Throws
// std::invalid_argument with a DMS-style message for malformed JSON or out-of-range values.
FullLoadSettings parse_full_load_settings(std::string_view json);

}  // namespace dagster_dms::replicate
