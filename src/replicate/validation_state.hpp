#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dagster_dms::replicate {

// DescribeTableStatistics' ValidationState values (AWS's wording).
enum class ValidationState {
  kNotEnabled,
  kPendingValidation,    // the table waits for its first comparison
  kPreparingTable,       // its comparison is under way
  kPendingRecords,       // changed rows wait for their comparison (CDC)
  kPendingRevalidation,  // every row waits: a validate-only reload was asked for
  kValidated,
  kMismatchedRecords,
  kSuspendedRecords,
  kNoPrimaryKey,
  kTableError,  // the table's load failed: some data was never migrated
  kError,       // the comparison itself failed
};
std::string_view validation_state_name(ValidationState state);

// One table's validation as DescribeTableStatistics shows it.
struct TableValidation {
  ValidationState state = ValidationState::kNotEnabled;
  std::string details;                 // ValidationStateDetails
  std::int64_t pending_records = 0;    // ValidationPendingRecords
  std::int64_t failed_records = 0;     // ValidationFailedRecords
  std::int64_t suspended_records = 0;  // ValidationSuspendedRecords
  // Source rows compared by the latest comparison (ValidationAttemptedRecordCount), and the
  // latest partition's source and target query times (ValidationBulkQuery*Latency).
  std::int64_t compared_records = 0;
  double source_query_seconds = 0;
  double target_query_seconds = 0;
};

// The failure types DMS writes to awsdms_validation_failures_v1.
enum class FailureType { kRecordDiff, kMissingSource, kMissingTarget };
std::string_view failure_type_name(FailureType type);

}  // namespace dagster_dms::replicate
