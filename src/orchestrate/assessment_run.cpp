#include "orchestrate/assessment_run.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>
#include <random>

#include "aws/errors.hpp"

namespace dagster_dms::orchestrate {

namespace {

constexpr std::array<std::string_view, 6> kFinished{
    "passed", "failed", "warning", "cancelled", "error-provisioning", "error-executing"};

std::vector<dms::ReplicationTaskIndividualAssessment> individual_assessments(
    dms::DmsClient& client, const std::string& run_arn) {
  std::vector<dms::ReplicationTaskIndividualAssessment> out;
  dms::DescribeReplicationTaskIndividualAssessmentsMessage request;
  request.filters =
      std::vector<dms::Filter>{dms::Filter{"replication-task-assessment-run-arn", {run_arn}, {}}};
  while (true) {
    dms::DescribeReplicationTaskIndividualAssessmentsResponse page;
    try {
      page = client.describe_replication_task_individual_assessments(request);
    } catch (const aws::ServiceError& e) {
      if (e.code() != "ResourceNotFoundFault") throw;  // a run with no assessment yet
      return out;
    }
    for (auto& item : page.replication_task_individual_assessments.value_or(
             std::vector<dms::ReplicationTaskIndividualAssessment>{})) {
      out.push_back(std::move(item));
    }
    if (!page.marker || page.marker->empty()) return out;
    request.marker = page.marker;
  }
}

dms::ReplicationTaskAssessmentRun describe_run(dms::DmsClient& client, const std::string& arn) {
  dms::DescribeReplicationTaskAssessmentRunsMessage request;
  request.filters =
      std::vector<dms::Filter>{dms::Filter{"replication-task-assessment-run-arn", {arn}, {}}};
  auto response = client.describe_replication_task_assessment_runs(request);
  if (!response.replication_task_assessment_runs ||
      response.replication_task_assessment_runs->empty()) {
    throw aws::ServiceError("DMS", "DescribeReplicationTaskAssessmentRuns", "ResourceNotFoundFault",
                            fmt::format("Assessment run {} not found.", arn), 400, "");
  }
  return response.replication_task_assessment_runs->front();
}

// The verdict line: the run's status, and which individual assessments did not pass.
void judge(AssessmentRunResult& result) {
  const auto status = result.run.status.value_or("");
  result.finished = is_assessment_run_finished(status);
  result.passed = result.finished && assessment_run_passed(status);
  std::string not_passed;
  for (const auto& item : result.individual) {
    const auto item_status = item.status.value_or("");
    if (item_status == "failed" || item_status == "error" || item_status == "warning") {
      if (!not_passed.empty()) not_passed += ", ";
      not_passed +=
          fmt::format("{} ({})", item.individual_assessment_name.value_or("?"), item_status);
    }
  }
  const auto name = result.run.assessment_run_name.value_or("the assessment run");
  result.message = fmt::format("premigration assessment {} {}", name, status);
  if (!not_passed.empty()) result.message += ": " + not_passed;
  if (!result.passed && result.run.last_failure_message) {
    result.message += fmt::format(". {}", *result.run.last_failure_message);
  }
}

}  // namespace

bool is_assessment_run_finished(std::string_view status) {
  return std::find(kFinished.begin(), kFinished.end(), status) != kFinished.end();
}

bool assessment_run_passed(std::string_view status) {
  return status == "passed" || status == "warning";
}

AssessmentRunResult run_assessment(dms::DmsClient& client, aws::Clock& clock,
                                   const std::string& task_arn, const AssessmentRunOptions& options,
                                   const std::function<bool()>& cancelled,
                                   const AssessmentProgress& on_progress) {
  dms::StartReplicationTaskAssessmentRunMessage request;
  request.replication_task_arn = task_arn;
  request.service_access_role_arn = options.service_access_role_arn;
  request.result_location_bucket = options.result_bucket;
  if (!options.result_folder.empty()) request.result_location_folder = options.result_folder;
  request.assessment_run_name = options.run_name;
  if (!options.include_only.empty()) request.include_only = options.include_only;
  if (!options.exclude.empty()) request.exclude = options.exclude;
  AssessmentRunResult result;
  result.run = client.start_replication_task_assessment_run(request)
                   .replication_task_assessment_run.value_or(dms::ReplicationTaskAssessmentRun{});
  const auto arn = result.run.replication_task_assessment_run_arn.value_or("");
  const auto deadline = clock.now() + options.timeout;
  while (!is_assessment_run_finished(result.run.status.value_or(""))) {
    if (on_progress) on_progress(result.run);
    if (clock.now() >= deadline || (cancelled && cancelled())) {
      try {
        dms::CancelReplicationTaskAssessmentRunMessage cancel;
        cancel.replication_task_assessment_run_arn = arn;
        client.cancel_replication_task_assessment_run(cancel);
      } catch (const aws::ServiceError&) {
        // It ended meanwhile: what it ended as is reported below.
      }
      result.run = describe_run(client, arn);
      result.individual = individual_assessments(client, arn);
      judge(result);
      if (!result.finished) {
        result.message = fmt::format("{}; the run was not followed to its end ({})", result.message,
                                     clock.now() >= deadline ? "timeout" : "cancelled");
      }
      return result;
    }
    clock.sleep_for(options.poll_interval);
    result.run = describe_run(client, arn);
  }
  if (on_progress) on_progress(result.run);
  result.individual = individual_assessments(client, arn);
  judge(result);
  return result;
}

AssessmentRunResult describe_assessment(dms::DmsClient& client, const std::string& run_arn) {
  AssessmentRunResult result;
  result.run = describe_run(client, run_arn);
  result.individual = individual_assessments(client, run_arn);
  judge(result);
  return result;
}

std::vector<dms::ReplicationTaskAssessmentRun> list_assessment_runs(
    dms::DmsClient& client, const std::optional<std::string>& task_arn) {
  std::vector<dms::ReplicationTaskAssessmentRun> out;
  dms::DescribeReplicationTaskAssessmentRunsMessage request;
  if (task_arn) {
    request.filters =
        std::vector<dms::Filter>{dms::Filter{"replication-task-arn", {*task_arn}, {}}};
  }
  while (true) {
    dms::DescribeReplicationTaskAssessmentRunsResponse page;
    try {
      page = client.describe_replication_task_assessment_runs(request);
    } catch (const aws::ServiceError& e) {
      if (e.code() != "ResourceNotFoundFault") throw;  // DMS's answer for "none"
      break;
    }
    for (auto& run : page.replication_task_assessment_runs.value_or(
             std::vector<dms::ReplicationTaskAssessmentRun>{})) {
      out.push_back(std::move(run));
    }
    if (!page.marker || page.marker->empty()) break;
    request.marker = page.marker;
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.replication_task_assessment_run_creation_date <
           b.replication_task_assessment_run_creation_date;
  });
  return out;
}

std::string fresh_assessment_run_name(std::string_view prefix, aws::Clock& clock) {
  thread_local std::mt19937 generator{std::random_device{}()};
  const auto seconds = std::chrono::floor<std::chrono::seconds>(clock.now());
  return fmt::format("{}-{:%Y%m%d%H%M%S}-{:04x}", prefix, seconds,
                     std::uniform_int_distribution<unsigned>(0, 0xffff)(generator));
}

}  // namespace dagster_dms::orchestrate
