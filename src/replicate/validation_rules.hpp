#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/validation_state.hpp"

namespace dagster_dms::replicate {

// How validation compares one column's values, both read in PostgreSQL's text form. DMS compares
// values, not spellings: numeric 1.50 equals 1.5, a real equals a double within the real's
// precision, and a timestamp equals the same instant kept at a lower precision on the target.
enum class CompareAs { kText, kNumeric, kReal, kDouble, kTimestamp };

// The comparison for a source column of type `type` (format_type(): `numeric(12,2)`, `real`,
// `timestamp(3) with time zone`...).
CompareAs compare_as(std::string_view type);

// Whether a source and a target value count as equal under `how`. NULL equals only NULL.
bool same_value(CompareAs how, const std::optional<std::string>& source,
                const std::optional<std::string>& target);

// One row of a partition: its primary key and its compared columns, as text.
struct ValidationRow {
  std::vector<std::string> key;
  std::vector<std::optional<std::string>> values;
};

struct ComparedColumn {
  std::string name;
  CompareAs how = CompareAs::kText;
};

// A row that failed validation, as awsdms_validation_failures_v1 records it.
struct RowFailure {
  FailureType type = FailureType::kRecordDiff;
  std::vector<std::string> key;
  std::string details;  // RECORD_DIFF: the differing columns and their values
};

// Compares the rows of one key range on both sides (any order; keys are unique per side).
// Returns the failures in source key order, then the target's rows missing on the source.
// The result never holds more rows than the two inputs.
std::vector<RowFailure> compare_partition(const std::vector<ComparedColumn>& columns,
                                          const std::vector<ValidationRow>& source,
                                          const std::vector<ValidationRow>& target);

// A key as DMS writes it in the KEY column: `{"key": ["3451491"]}`, one string per key column.
std::string failure_key_json(const std::vector<std::string>& key);

}  // namespace dagster_dms::replicate
