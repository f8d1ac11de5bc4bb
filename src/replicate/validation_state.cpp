#include "replicate/validation_state.hpp"

namespace dagster_dms::replicate {

std::string_view validation_state_name(ValidationState state) {
  switch (state) {
    case ValidationState::kNotEnabled:
      return "Not enabled";
    case ValidationState::kPendingValidation:
      return "Pending validation";
    case ValidationState::kPreparingTable:
      return "Preparing table";
    case ValidationState::kPendingRecords:
      return "Pending records";
    case ValidationState::kPendingRevalidation:
      return "Pending revalidation";
    case ValidationState::kValidated:
      return "Validated";
    case ValidationState::kMismatchedRecords:
      return "Mismatched records";
    case ValidationState::kSuspendedRecords:
      return "Suspended records";
    case ValidationState::kNoPrimaryKey:
      return "No primary key";
    case ValidationState::kTableError:
      return "Table error";
    case ValidationState::kError:
      return "Error";
  }
  return "Error";
}

std::string_view failure_type_name(FailureType type) {
  switch (type) {
    case FailureType::kRecordDiff:
      return "RECORD_DIFF";
    case FailureType::kMissingSource:
      return "MISSING_SOURCE";
    case FailureType::kMissingTarget:
      return "MISSING_TARGET";
  }
  return "RECORD_DIFF";
}

}  // namespace dagster_dms::replicate
