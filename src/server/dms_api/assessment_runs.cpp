#include "server/dms_api/assessment_runs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "replicate/premigration_assessments.hpp"
#include "replicate/s3_path.hpp"
#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resources.hpp"
#include "server/dms_api/task_runs.hpp"
#include "server/execution/task_plan.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

namespace rep = replicate;

constexpr std::size_t kRunNameMax = 255;

const FilterSpec kRunFilters{{"replication-task-assessment-run-arn", "replication-task-arn",
                              "replication-instance-arn", "status"},
                             {}};
const FilterSpec kIndividualFilters{
    {"replication-task-assessment-run-arn", "replication-task-arn", "status"}, {}};

bool is_terminal(AssessmentRunStatus status) {
  switch (status) {
    case AssessmentRunStatus::kStarting:
    case AssessmentRunStatus::kProvisioning:
    case AssessmentRunStatus::kRunning:
    case AssessmentRunStatus::kCancelling:
      return false;
    default:
      return true;
  }
}

// A task's engines and migration type, as the assessments choose by them.
rep::AssessmentScope scope_of(const Store& store, const Record& task) {
  rep::AssessmentScope scope;
  scope.migration_type = task.doc.value("MigrationType", "");
  const auto engine = [&](const char* member) {
    const auto endpoint = store.find_by_arn(ResourceKind::kEndpoint, task.doc.value(member, ""));
    return endpoint ? endpoint->doc.value("EngineName", "") : std::string();
  };
  scope.source_engine = engine("SourceEndpointArn");
  scope.target_engine = engine("TargetEndpointArn");
  return scope;
}

// IncludeOnly and Exclude hold names that apply to the task: anything else is a typo to name.
std::vector<std::string> chosen_assessments(
    const dms::StartReplicationTaskAssessmentRunMessage& request,
    const std::vector<std::string>& applicable) {
  const auto check = [&](const std::vector<std::string>& names, std::string_view member) {
    for (const auto& name : names) {
      if (std::find(applicable.begin(), applicable.end(), name) == applicable.end()) {
        throw invalid_parameter(
            fmt::format("{} names '{}', which is not an individual assessment for this task; "
                        "DescribeApplicableIndividualAssessments lists the names that apply.",
                        member, name));
      }
    }
  };
  const auto include = request.include_only.value_or(std::vector<std::string>{});
  const auto exclude = request.exclude.value_or(std::vector<std::string>{});
  if (!include.empty() && !exclude.empty()) {
    throw invalid_combination("Specify IncludeOnly or Exclude, not both.");
  }
  check(include, "IncludeOnly");
  check(exclude, "Exclude");
  if (!include.empty()) {
    std::vector<std::string> out;
    for (const auto& name : applicable) {
      if (std::find(include.begin(), include.end(), name) != include.end()) out.push_back(name);
    }
    return out;
  }
  std::vector<std::string> out;
  for (const auto& name : applicable) {
    if (std::find(exclude.begin(), exclude.end(), name) == exclude.end()) out.push_back(name);
  }
  return out;
}

void require_run_name(const std::string& name) {
  const bool valid = !name.empty() && name.size() <= kRunNameMax &&
                     std::all_of(name.begin(), name.end(), [](unsigned char c) {
                       return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
                     });
  if (!valid) {
    throw invalid_parameter(fmt::format(
        "Invalid AssessmentRunName '{}': use 1 to {} letters, digits, hyphens, underscores or "
        "periods.",
        name, kRunNameMax));
  }
}

void require_role_arn(const std::string& arn) {
  if (arn.rfind("arn:aws:iam::", 0) != 0 || arn.find(":role/") == std::string::npos) {
    throw invalid_parameter(fmt::format(
        "ServiceAccessRoleArn '{}' is not an IAM role ARN (arn:aws:iam::<account>:role/<name>).",
        arn));
  }
}

// The run's result location, checked the way an s3 target's is, before anything is created.
void require_result_location(const ControlPlane& plane, const std::string& bucket,
                             const std::string& folder) {
  if (!plane.options.s3_root) {
    throw ApiError(400, "S3ResourceNotFoundFault",
                   "Assessment results are written to S3: start dms-local with --s3-root DIR "
                   "(the local directory that stands for S3).");
  }
  try {
    rep::check_s3_location(bucket, folder);
  } catch (const rep::S3PathError& error) {
    throw ApiError(400, "S3ResourceNotFoundFault",
                   fmt::format("ResultLocationBucket/ResultLocationFolder: {}", error.what()));
  }
}

std::string individual_arn(const Record& run, std::size_t index) {
  return fmt::format("arn:aws:dms:{}:{}:individual-assessment:{}-{:02}", run.region, run.account,
                     arn_resource_id(run.arn), index + 1);
}

nlohmann::json public_run(const Record& record, bool latest) {
  auto doc = record.doc;
  doc["IsLatestTaskAssessmentRun"] = latest;
  return public_document<dms::ReplicationTaskAssessmentRun>(doc);
}

// The newest run of each task (runs are created one after another, so creation order decides).
std::set<std::string> latest_runs(const std::vector<Record>& runs) {
  std::map<std::string, std::pair<std::int64_t, std::string>> newest;
  for (const auto& run : runs) {
    const auto created = run.internal.value("created_ms", std::int64_t{0});
    auto& slot = newest[run.doc.value("ReplicationTaskArn", "")];
    if (slot.second.empty() || created >= slot.first) slot = {created, run.arn};
  }
  std::set<std::string> out;
  for (const auto& [task, entry] : newest) out.insert(entry.second);
  return out;
}

nlohmann::json public_run_in(ControlPlane& plane, const Record& record) {
  const auto runs = plane.store.list(ResourceKind::kAssessmentRun, record.account, record.region);
  return public_run(record, latest_runs(runs).contains(record.arn));
}

Record require_run(ControlPlane& plane, const RequestContext& context, const std::string& arn) {
  auto record = plane.store.find_by_arn(ResourceKind::kAssessmentRun, arn);
  if (!record || record->account != context.account || record->region != context.region) {
    throw not_found(fmt::format("Assessment run {} not found.", arn));
  }
  return *record;
}

// ---- the run itself (on a background thread) ----

// Applies `change` to the stored run under the control-plane lock; false when the run is gone
// (deleted) or dms-local is shutting down.
bool update_run(ControlPlane& plane, const std::string& arn,
                const std::function<void(Record&)>& change) {
  const std::lock_guard lock(plane.mutex);
  if (plane.shutting_down) return false;
  bool found = false;
  plane.store.transaction([&] {
    auto record = plane.store.find_by_arn(ResourceKind::kAssessmentRun, arn);
    if (!record) return;
    found = true;
    change(*record);
    plane.store.update(ResourceKind::kAssessmentRun, *record);
  });
  return found;
}

void write_file(const rep::ConfinedDirectory& directory, const std::string& name,
                const std::string& text) {
  const auto temporary = name + ".tmp";
  rep::FileWriter out(directory.create_file(temporary), directory.path() / temporary);
  out.write(text);
  out.close(true);
  directory.rename(temporary, name);
}

// DMS writes a run's results under <bucket>/<folder>/<run name>/: one JSON document per
// individual assessment and a summary of the run.
void write_results(const std::filesystem::path& root, const Record& run) {
  const auto root_directory = rep::ConfinedDirectory::open_root(root);
  auto segments = std::vector<std::string>{run.doc.value("ResultLocationBucket", "")};
  for (auto& segment : rep::bucket_folder_segments(run.doc.value("ResultLocationFolder", ""))) {
    segments.push_back(std::move(segment));
  }
  segments.push_back(rep::encode_path_segment(run.doc.value("AssessmentRunName", "")));
  const auto directory = *root_directory.open(segments, true);
  nlohmann::json summary = {{"AssessmentRunName", run.doc.value("AssessmentRunName", "")},
                            {"ReplicationTaskAssessmentRunArn", run.arn},
                            {"ReplicationTaskArn", run.doc.value("ReplicationTaskArn", "")},
                            {"Status", run.doc.value("Status", "")},
                            {"ResultStatistic", run.doc.value("ResultStatistic", nlohmann::json())},
                            {"IndividualAssessments", nlohmann::json::array()}};
  for (const auto& individual : run.internal.value("individual", nlohmann::json::array())) {
    const auto name = individual.value("name", "");
    const nlohmann::json result = {
        {"IndividualAssessmentName", name},
        {"Status", individual.value("status", "")},
        {"Summary", individual.value("message", "")},
        {"Details", individual.value("details", nlohmann::json::array())}};
    write_file(directory, rep::encode_path_segment(name) + ".json", result.dump(2) + "\n");
    summary["IndividualAssessments"].push_back(
        {{"IndividualAssessmentName", name}, {"Status", individual.value("status", "")}});
  }
  write_file(directory, "summary.json", summary.dump(2) + "\n");
}

// The run's final status from its individual assessments' (cancellation aside).
AssessmentRunStatus final_status(const nlohmann::json& individual, nlohmann::json& statistic) {
  std::map<std::string, int> counts;
  for (const auto& entry : individual) ++counts[entry.value("status", "")];
  statistic = {{"Passed", counts["passed"]},       {"Failed", counts["failed"]},
               {"Error", counts["error"]},         {"Warning", counts["warning"]},
               {"Cancelled", counts["cancelled"]}, {"Skipped", counts["skipped"]}};
  if (counts["cancelled"] > 0) return AssessmentRunStatus::kCancelled;
  if (counts["failed"] > 0) return AssessmentRunStatus::kFailed;
  if (counts["error"] > 0) return AssessmentRunStatus::kErrorExecuting;
  const auto total = static_cast<int>(individual.size());
  if (counts["warning"] > 0 || (total > 0 && counts["skipped"] == total)) {
    return AssessmentRunStatus::kWarning;
  }
  return AssessmentRunStatus::kPassed;
}

// Moves a run on from `from` to `to`; a run cancelled meanwhile stays `cancelling`.
void advance(Record& run, AssessmentRunStatus from, AssessmentRunStatus to) {
  if (status_in<AssessmentRunStatus>(run.doc) == from) set_status(run.doc, to);
}

void execute_run(ControlPlane& plane, const std::string& arn, rep::AssessmentInputs inputs) {
  rep::AssessmentSession session(std::move(inputs));
  std::vector<std::string> names;
  if (!update_run(plane, arn, [&](Record& run) {
        advance(run, AssessmentRunStatus::kProvisioning, AssessmentRunStatus::kRunning);
        for (const auto& entry : run.internal["individual"]) names.push_back(entry["name"]);
      })) {
    return;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    bool cancelled = false;
    if (!update_run(plane, arn, [&](Record& run) {
          cancelled = status_in<AssessmentRunStatus>(run.doc) == AssessmentRunStatus::kCancelling;
          auto& entry = run.internal["individual"][i];
          entry["status"] = cancelled ? "cancelled" : "running";
          entry["started"] = plane.now_json();
        })) {
      return;
    }
    if (cancelled) continue;
    const auto result = session.run(names[i]);
    update_run(plane, arn, [&](Record& run) {
      auto& entry = run.internal["individual"][i];
      entry["status"] = std::string(rep::assessment_status_name(result.status));
      entry["message"] = result.message;
      entry["details"] = result.details;
      auto& progress = run.doc["AssessmentProgress"];
      progress["IndividualAssessmentCompletedCount"] =
          progress.value("IndividualAssessmentCompletedCount", 0) + 1;
      if (result.status == rep::AssessmentStatus::kFailed ||
          result.status == rep::AssessmentStatus::kError) {
        run.doc["LastFailureMessage"] = fmt::format("{}: {}", result.name, result.message);
      }
    });
  }
  Record finished;
  if (!update_run(plane, arn, [&](Record& run) {
        nlohmann::json statistic;
        set_status(run.doc, final_status(run.internal["individual"], statistic));
        run.doc["ResultStatistic"] = statistic;
        finished = run;
      })) {
    return;
  }
  try {
    write_results(*plane.options.s3_root, finished);
  } catch (const std::exception& error) {
    update_run(plane, arn, [&](Record& run) {
      set_status(run.doc, AssessmentRunStatus::kErrorExecuting);
      run.doc["LastFailureMessage"] =
          fmt::format("The results could not be written to the result location: {}", error.what());
    });
  }
}

// ---- the operations ----

nlohmann::json start_run(ControlPlane& plane, const RequestContext& context,
                         const nlohmann::json& body) {
  const auto request = parse_request<dms::StartReplicationTaskAssessmentRunMessage>(body);
  const auto task = plane.require(context, ResourceKind::kTask, request.replication_task_arn);
  require_run_name(request.assessment_run_name);
  require_role_arn(request.service_access_role_arn);
  const auto folder = request.result_location_folder.value_or("");
  require_result_location(plane, request.result_location_bucket, folder);
  if (request.result_encryption_mode && *request.result_encryption_mode != "SSE_S3" &&
      *request.result_encryption_mode != "SSE_KMS") {
    throw invalid_parameter(
        fmt::format("ResultEncryptionMode '{}' is invalid; use SSE_S3 or SSE_KMS.",
                    *request.result_encryption_mode));
  }
  const auto status = status_in<TaskStatus>(task.doc);
  if (status != TaskStatus::kReady && status != TaskStatus::kStopped &&
      status != TaskStatus::kFailed) {
    throw invalid_state(fmt::format(
        "Replication task {} is {}; a premigration assessment runs on a task that is ready, "
        "stopped or failed.",
        task.identifier, to_wire(status)));
  }
  const auto runs = plane.store.list(ResourceKind::kAssessmentRun, context.account, context.region);
  for (const auto& run : runs) {
    if (run.doc.value("ReplicationTaskArn", "") == task.arn &&
        !is_terminal(status_in<AssessmentRunStatus>(run.doc))) {
      throw invalid_state(fmt::format(
          "Replication task {} already has an assessment run under way ({}); wait for it or "
          "cancel it.",
          task.identifier, run.identifier));
    }
  }
  if (plane.store.find_by_identifier(ResourceKind::kAssessmentRun, context.account, context.region,
                                     request.assessment_run_name)) {
    throw already_exists(
        fmt::format("An assessment run named {} already exists.", request.assessment_run_name));
  }
  const auto scope = scope_of(plane.store, task);
  const auto names = chosen_assessments(request, rep::applicable_assessments(scope));

  auto record = plane.new_record(context, ResourceKind::kAssessmentRun, request.assessment_run_name,
                                 std::nullopt);
  record.doc = {
      {"ReplicationTaskAssessmentRunArn", record.arn},
      {"ReplicationTaskArn", task.arn},
      {"ReplicationTaskAssessmentRunCreationDate", plane.now_json()},
      {"AssessmentProgress",
       {{"IndividualAssessmentCount", names.size()}, {"IndividualAssessmentCompletedCount", 0}}},
      {"ServiceAccessRoleArn", request.service_access_role_arn},
      {"ResultLocationBucket", request.result_location_bucket},
      {"ResultLocationFolder", folder},
      {"AssessmentRunName", request.assessment_run_name}};
  if (request.result_encryption_mode) {
    record.doc["ResultEncryptionMode"] = *request.result_encryption_mode;
  }
  if (request.result_kms_key_arn) record.doc["ResultKmsKeyArn"] = *request.result_kms_key_arn;
  set_status(record.doc, AssessmentRunStatus::kStarting);
  record.internal["created_ms"] = plane.now_millis();
  record.internal["instance_arn"] = task.doc.value("ReplicationInstanceArn", "");
  nlohmann::json individual = nlohmann::json::array();
  for (std::size_t i = 0; i < names.size(); ++i) {
    individual.push_back(
        {{"name", names[i]}, {"arn", individual_arn(record, i)}, {"status", "pending"}});
  }
  record.internal["individual"] = std::move(individual);
  plane.store.insert(ResourceKind::kAssessmentRun, record);
  plane.put_request_tags(record.arn, request.tags);

  // What the run reads, taken now: a later ModifyEndpoint does not change a run under way.
  const auto run = TaskRunShape::run_of(plane.store, task);
  rep::AssessmentInputs inputs;
  inputs.scope = scope;
  inputs.source = source_pg_endpoint(run);
  if (scope.target_engine == "postgres" || scope.target_engine == "aurora-postgresql") {
    inputs.target = target_pg_endpoint(run);
  }
  inputs.table_mappings = run.task.table_mappings.value_or("");
  inputs.task_settings = run.task.replication_task_settings.value_or("");
  plane.after_unlock([&plane, arn = record.arn, inputs = std::move(inputs)]() mutable {
    plane.background.run([&plane, arn, inputs = std::move(inputs)]() mutable {
      if (!update_run(plane, arn, [](Record& stored) {
            advance(stored, AssessmentRunStatus::kStarting, AssessmentRunStatus::kProvisioning);
          })) {
        return;
      }
      execute_run(plane, arn, std::move(inputs));
    });
  });
  return {{"ReplicationTaskAssessmentRun", public_run_in(plane, record)}};
}

nlohmann::json describe_runs(ControlPlane& plane, const RequestContext& context,
                             const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeReplicationTaskAssessmentRunsMessage>(body);
  auto runs = plane.store.list(ResourceKind::kAssessmentRun, context.account, context.region);
  const auto latest = latest_runs(runs);
  return describe_page(
      runs, DescribeRequest::of(request),
      {kRunFilters, "No assessment runs found matching provided filters"},
      "ReplicationTaskAssessmentRuns",
      [](const Record& record, std::string_view name) {
        if (name == "replication-task-assessment-run-arn") return std::vector{record.arn};
        if (name == "replication-task-arn") {
          return std::vector{record.doc.value("ReplicationTaskArn", "")};
        }
        if (name == "replication-instance-arn") {
          return std::vector{record.internal.value("instance_arn", "")};
        }
        return std::vector{record.doc.value("Status", "")};
      },
      identifier_key,
      [&](const Record& record) { return public_run(record, latest.contains(record.arn)); });
}

nlohmann::json cancel_run(ControlPlane& plane, const RequestContext& context,
                          const nlohmann::json& body) {
  const auto request = parse_request<dms::CancelReplicationTaskAssessmentRunMessage>(body);
  auto record = require_run(plane, context, request.replication_task_assessment_run_arn);
  const auto status = status_in<AssessmentRunStatus>(record.doc);
  if (is_terminal(status) || status == AssessmentRunStatus::kCancelling) {
    throw invalid_state(fmt::format("Assessment run {} is {} and cannot be cancelled.",
                                    record.identifier, to_wire(status)));
  }
  set_status(record.doc, AssessmentRunStatus::kCancelling);
  plane.store.update(ResourceKind::kAssessmentRun, record);
  return {{"ReplicationTaskAssessmentRun", public_run_in(plane, record)}};
}

nlohmann::json delete_run(ControlPlane& plane, const RequestContext& context,
                          const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteReplicationTaskAssessmentRunMessage>(body);
  auto record = require_run(plane, context, request.replication_task_assessment_run_arn);
  const auto status = status_in<AssessmentRunStatus>(record.doc);
  if (!is_terminal(status)) {
    throw invalid_state(fmt::format(
        "Assessment run {} is {}; cancel it, or wait for it to end, before deleting it.",
        record.identifier, to_wire(status)));
  }
  auto answer = public_run_in(plane, record);
  answer["Status"] = std::string(to_wire(AssessmentRunStatus::kDeleting));
  // The results under the result location stay, as DMS leaves the S3 objects alone.
  plane.store.remove(ResourceKind::kAssessmentRun, record.arn);
  return {{"ReplicationTaskAssessmentRun", answer}};
}

nlohmann::json describe_individual(ControlPlane& plane, const RequestContext& context,
                                   const nlohmann::json& body) {
  const auto request =
      parse_request<dms::DescribeReplicationTaskIndividualAssessmentsMessage>(body);
  struct Individual {
    nlohmann::json doc;
    std::string task_arn;
    std::string key;
  };
  std::vector<Individual> items;
  for (const auto& run :
       plane.store.list(ResourceKind::kAssessmentRun, context.account, context.region)) {
    const auto entries = run.internal.value("individual", nlohmann::json::array());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& entry = entries[i];
      nlohmann::json doc = {{"ReplicationTaskIndividualAssessmentArn", entry.value("arn", "")},
                            {"ReplicationTaskAssessmentRunArn", run.arn},
                            {"IndividualAssessmentName", entry.value("name", "")},
                            {"Status", entry.value("status", "")}};
      if (entry.contains("started")) {
        doc["ReplicationTaskIndividualAssessmentStartDate"] = entry["started"];
      }
      items.push_back({std::move(doc), run.doc.value("ReplicationTaskArn", ""),
                       fmt::format("{}|{:04}", run.identifier, i)});
    }
  }
  return describe_page(
      items, DescribeRequest::of(request),
      {kIndividualFilters, "No individual assessments found matching provided filters"},
      "ReplicationTaskIndividualAssessments",
      [](const Individual& item, std::string_view name) {
        if (name == "replication-task-assessment-run-arn") {
          return std::vector{item.doc.value("ReplicationTaskAssessmentRunArn", "")};
        }
        if (name == "replication-task-arn") return std::vector{item.task_arn};
        return std::vector{item.doc.value("Status", "")};
      },
      [](const Individual& item, std::size_t /*index*/) { return item.key; },
      [](const Individual& item) {
        return public_document<dms::ReplicationTaskIndividualAssessment>(item.doc);
      });
}

nlohmann::json describe_applicable(ControlPlane& plane, const RequestContext& context,
                                   const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeApplicableIndividualAssessmentsMessage>(body);
  rep::AssessmentScope scope;
  if (request.replication_task_arn) {
    scope = scope_of(plane.store,
                     plane.require(context, ResourceKind::kTask, *request.replication_task_arn));
  } else {
    const bool any = request.replication_instance_arn || request.source_engine_name ||
                     request.target_engine_name || request.migration_type;
    const bool all = request.replication_instance_arn && request.source_engine_name &&
                     request.target_engine_name && request.migration_type;
    if (any && !all) {
      throw invalid_combination(
          "Specify ReplicationTaskArn alone, or ReplicationInstanceArn, SourceEngineName, "
          "TargetEngineName and MigrationType together.");
    }
    if (all) {
      (void)plane.require(context, ResourceKind::kInstance, *request.replication_instance_arn);
      scope = {*request.source_engine_name, *request.target_engine_name, *request.migration_type};
    }
  }
  std::vector<std::string> names = rep::applicable_assessments(scope);
  nlohmann::json page = describe_page(
      names, DescribeRequest{std::nullopt, request.max_records, request.marker},
      {kIndividualFilters, ""}, "IndividualAssessmentNames",
      [](const std::string&, std::string_view) { return std::vector<std::string>{}; },
      [](const std::string&, std::size_t index) { return fmt::format("{:04}", index); },
      [](const std::string& name) { return nlohmann::json(name); });
  return page;
}

}  // namespace

void fail_interrupted_assessment_runs(Store& store) {
  for (auto& record : store.list_all(ResourceKind::kAssessmentRun)) {
    const auto status = status_in<AssessmentRunStatus>(record.doc);
    if (is_terminal(status)) continue;
    set_status(record.doc, status == AssessmentRunStatus::kCancelling
                               ? AssessmentRunStatus::kCancelled
                               : AssessmentRunStatus::kErrorExecuting);
    record.doc["LastFailureMessage"] =
        "The assessment run was interrupted when dms-local stopped; start a new run.";
    store.update(ResourceKind::kAssessmentRun, record);
  }
}

void register_assessment_runs(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"StartReplicationTaskAssessmentRun", start_run},
                  {"DescribeReplicationTaskAssessmentRuns", describe_runs},
                  {"CancelReplicationTaskAssessmentRun", cancel_run},
                  {"DeleteReplicationTaskAssessmentRun", delete_run},
                  {"DescribeReplicationTaskIndividualAssessments", describe_individual},
                  {"DescribeApplicableIndividualAssessments", describe_applicable}});
}

}  // namespace dagster_dms::server
