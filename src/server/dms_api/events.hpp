#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// The DMS events dms-local records for DescribeEvents (DMS-BEHAVIOUR.md, EVT): each has DMS's
// event id (DMS-EVENT-NNNN), its category and its message.
enum class DmsEvent {
  kTaskCreated,
  kTaskStarted,
  kTaskStopped,
  kTaskFailed,
  kTaskModified,
  kTaskDeleted,
  kInstanceCreating,
  kInstanceCreated,
  kInstanceClassChanging,
  kInstanceClassChanged,
  kInstanceStorageScaling,
  kInstanceStorageScaled,
  kInstanceDeleting,
  kInstanceDeleted,
};

// Records `event` of the task or instance `source` now: stored (it survives a restart) and
// delivered to the matching event subscriptions. `detail` completes the message (a stop reason,
// a failure).
void record_event(ControlPlane& plane, const Record& source, DmsEvent event,
                  std::string_view detail = {});

// The run lifecycle's hooks (shared by tasks and serverless replications; only a task's run
// has events): a run started; a run ended, failed or not.
void record_run_start_event(ControlPlane& plane, ResourceKind kind, const Record& source);
void record_run_end_event(ControlPlane& plane, ResourceKind kind, const Record& source, bool failed,
                          std::string_view stop_reason, const std::optional<std::string>& failure);

// The instance hooks. A ModifyReplicationInstance applying `changes` (the members that change)
// begins their configuration-change events; the instance becoming available (after `creating`
// or `modifying`) finishes them, or the creation.
void record_instance_changes_begun(ControlPlane& plane, Record& instance,
                                   const nlohmann::json& changes);
void record_instance_available(ControlPlane& plane, Record& instance);

// The source types with events and the categories of each (DescribeEventCategories).
// InvalidParameterValueException for an unknown source type, or a category the source type
// (any source type, when none is given) does not have.
void require_valid_event_selection(const std::optional<std::string>& source_type,
                                   const std::optional<std::vector<std::string>>& categories);

}  // namespace dagster_dms::server
