#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/pg_connection.hpp"

namespace dagster_dms::replicate {

// DMS's premigration assessments (StartReplicationTaskAssessmentRun) for PostgreSQL sources and
// targets, named by their API keys. Each one really reads the source (and, where it concerns the
// target, the target) database; none changes anything.

// An individual assessment's outcome, in DMS's words (ReplicationTaskIndividualAssessment.Status).
enum class AssessmentStatus { kPassed, kFailed, kWarning, kError, kSkipped, kCancelled };
std::string_view assessment_status_name(AssessmentStatus status);

// What decides which assessments apply to a task: its engines and migration type.
struct AssessmentScope {
  std::string source_engine;  // EngineName: postgres, aurora-postgresql, mysql, s3...
  std::string target_engine;
  std::string migration_type;  // full-load, cdc, full-load-and-cdc
};

// The API keys that apply to `scope`, in the order a run executes them. An empty scope (every
// member empty) lists every assessment dms-local knows.
std::vector<std::string> applicable_assessments(const AssessmentScope& scope);

struct AssessmentResult {
  std::string name;
  AssessmentStatus status = AssessmentStatus::kPassed;
  // One sentence on what was checked and what was found; for a failure, what to do.
  std::string message;
  // The objects behind a failure or warning: {"schema", "table"[, "column", "type"]} or
  // {"setting", "value"}.
  nlohmann::json details = nlohmann::json::array();
};

// What an assessment run reads: the task's endpoints and its table mappings.
struct AssessmentInputs {
  AssessmentScope scope;
  PgEndpoint source;
  std::optional<PgEndpoint> target;  // nullopt: the target is not a PostgreSQL database
  std::string table_mappings;        // the TableMappings JSON document
  std::string task_settings;         // ReplicationTaskSettings JSON; empty = DMS defaults
};

// Runs the individual assessments of one run, one at a time, on connections it opens on first
// use and keeps. A database that cannot be reached, or a statement that fails, makes that
// assessment `error` with the driver's message (never a password); the next one tries again.
class AssessmentSession {
 public:
  explicit AssessmentSession(AssessmentInputs inputs);
  ~AssessmentSession();
  AssessmentSession(const AssessmentSession&) = delete;
  AssessmentSession& operator=(const AssessmentSession&) = delete;

  AssessmentResult run(const std::string& name);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dagster_dms::replicate
