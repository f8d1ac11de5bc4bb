#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "replicate/change_processing_tuning.hpp"
#include "replicate/recoverable_errors.hpp"

namespace dagster_dms::replicate {

enum class TablePrepMode { kDropAndCreate, kTruncateBeforeLoad, kDoNothing };

// FullLoadSettings.StopTaskCachedChanges{Applied,NotApplied}: whether a full-load-and-cdc task
// stops after its load, before or after applying the changes made during it.
enum class StopAfterLoad { kNo, kCachedChangesNotApplied, kCachedChangesApplied };

// The parts of ReplicationTaskSettings that steer a run. parse_full_load_settings fills every
// member, from the document or from DMS's defaults (task_settings_defaults.hpp, the one place
// they are written); a default-constructed value holds no DMS default.
struct FullLoadSettings {
  TablePrepMode prep_mode{};           // FullLoadSettings.TargetTablePrepMode
  int max_subtasks = 0;                // FullLoadSettings.MaxFullLoadSubTasks (1-49)
  std::uint64_t load_max_file_kb = 0;  // TargetMetadata.LoadMaxFileSize; 0 = the target's own
  std::string target_schema;           // TargetMetadata.TargetSchema; empty = source schema
  std::string control_schema;      // ControlTablesSettings.ControlSchema; empty = target's default
  bool fail_on_no_tables = false;  // ErrorBehavior.FailOnNoTablesCaptured
  bool stop_task_on_table_error = false;  // ErrorBehavior.TableErrorPolicy == STOP_TASK
  int table_error_escalation_count = 0;   // ErrorBehavior.TableErrorEscalationCount; 0 = never
  // When both flags are set, the applied variant wins (the changes are not thrown away).
  StopAfterLoad stop_after_load = StopAfterLoad::kNo;
  // ChangeProcessingDdlHandlingPolicy: whether CDC replays a source TRUNCATE or column change
  // (ADD/DROP COLUMN) on the target. A change not replayed is still counted (Ddls).
  bool handle_source_table_truncated = false;
  bool handle_source_table_altered = false;
  // ErrorBehavior.Recoverable*: how a run retries lost connections (full load and CDC alike).
  RecoverableErrorPolicy recoverable;
  // TargetMetadata.BatchApplyEnabled and ChangeProcessingTuning: how CDC commits on the target.
  ChangeProcessingTuning change_tuning;
};

// Reads a ReplicationTaskSettings JSON document merged over DMS's defaults (empty text = all
// defaults; a null member keeps its default). Throws
// std::invalid_argument with a DMS-style message for malformed JSON or out-of-range values.
FullLoadSettings parse_full_load_settings(std::string_view json);

}  // namespace dagster_dms::replicate
