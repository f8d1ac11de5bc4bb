#pragma once

#include "server/dms_api/control_plane.hpp"
#include "server/dms_api/resource_status.hpp"

namespace dagster_dms::server {

// ReplicationTaskAssessmentRun.Status. A run is `starting` when accepted, `provisioning` while it
// connects, `running` while its individual assessments run, and ends `passed` (none failed),
// `failed` (one failed), `warning` (one warned, or all were skipped), `error-executing` (one
// could not run) or, after CancelReplicationTaskAssessmentRun, `cancelling` then `cancelled`.
enum class AssessmentRunStatus {
  kStarting,
  kProvisioning,
  kRunning,
  kPassed,
  kFailed,
  kWarning,
  kErrorProvisioning,
  kErrorExecuting,
  kCancelling,
  kCancelled,
  kDeleting,
};

template <>
struct StatusWire<AssessmentRunStatus> {
  static constexpr std::string_view member = "Status";
  static constexpr std::array<std::pair<AssessmentRunStatus, std::string_view>, 11> names{{
      {AssessmentRunStatus::kStarting, "starting"},
      {AssessmentRunStatus::kProvisioning, "provisioning"},
      {AssessmentRunStatus::kRunning, "running"},
      {AssessmentRunStatus::kPassed, "passed"},
      {AssessmentRunStatus::kFailed, "failed"},
      {AssessmentRunStatus::kWarning, "warning"},
      {AssessmentRunStatus::kErrorProvisioning, "error-provisioning"},
      {AssessmentRunStatus::kErrorExecuting, "error-executing"},
      {AssessmentRunStatus::kCancelling, "cancelling"},
      {AssessmentRunStatus::kCancelled, "cancelled"},
      {AssessmentRunStatus::kDeleting, "deleting"},
  }};
};

// Runs under way when dms-local stopped end `error-executing`, saying so.
void fail_interrupted_assessment_runs(Store& store);

}  // namespace dagster_dms::server
