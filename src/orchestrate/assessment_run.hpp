#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/clock.hpp"
#include "dms/dms_client.hpp"

namespace dagster_dms::orchestrate {

// Premigration assessment runs (StartReplicationTaskAssessmentRun): start one, follow it to its
// end and judge it. The component's `premigration_assessment` check, its `assess_before_start`
// gate and `dmsctl assessments` all judge through here.

// Whether a run's Status is final: passed, failed, warning, cancelled, error-provisioning,
// error-executing. (starting, provisioning, running and cancelling are not.)
bool is_assessment_run_finished(std::string_view status);
// Whether a finished run lets a migration go ahead: `passed` or `warning` (a warning names risks
// DMS can still migrate through). failed, error-* and cancelled do not.
bool assessment_run_passed(std::string_view status);

struct AssessmentRunOptions {
  std::string run_name;                 // AssessmentRunName: unique among the account's runs
  std::string service_access_role_arn;  // ServiceAccessRoleArn
  std::string result_bucket;            // ResultLocationBucket
  std::string result_folder;            // ResultLocationFolder; empty: the bucket's root
  std::vector<std::string> include_only;
  std::vector<std::string> exclude;
  std::chrono::milliseconds timeout{std::chrono::hours(1)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
};

struct AssessmentRunResult {
  bool finished = false;  // the run reached a final status before the timeout/cancellation
  bool passed = false;    // assessment_run_passed(run.status)
  std::string message;    // one line: the verdict, naming the assessments that failed
  dms::ReplicationTaskAssessmentRun run;
  std::vector<dms::ReplicationTaskIndividualAssessment> individual;
};

// What a caller sees while a run is followed: the run as last described.
using AssessmentProgress = std::function<void(const dms::ReplicationTaskAssessmentRun& run)>;

// Starts a run on `task_arn` and polls it until it ends, the timeout passes or `cancelled`
// returns true (then the run is cancelled with CancelReplicationTaskAssessmentRun, best effort).
AssessmentRunResult run_assessment(dms::DmsClient& client, aws::Clock& clock,
                                   const std::string& task_arn, const AssessmentRunOptions& options,
                                   const std::function<bool()>& cancelled = {},
                                   const AssessmentProgress& on_progress = {});

// A run as it stands (by its ARN), with its individual assessments, judged the same way.
AssessmentRunResult describe_assessment(dms::DmsClient& client, const std::string& run_arn);

// Every run (optionally of one task), oldest first.
std::vector<dms::ReplicationTaskAssessmentRun> list_assessment_runs(
    dms::DmsClient& client, const std::optional<std::string>& task_arn);

// A run name that is new each time: `<prefix>-<UTC yyyymmddhhmmss>-<4 random hex digits>`.
std::string fresh_assessment_run_name(std::string_view prefix, aws::Clock& clock);

}  // namespace dagster_dms::orchestrate
