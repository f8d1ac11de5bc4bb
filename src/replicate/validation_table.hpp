#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "replicate/catalog.hpp"
#include "replicate/full_load.hpp"
#include "replicate/pg_connection.hpp"
#include "replicate/validation_settings.hpp"
#include "replicate/validation_state.hpp"

namespace dagster_dms::replicate {

// FailureMaxCount: the records that may fail validation across a task's tables before its
// validation is suspended. Shared by the run's tables; thread-safe.
class ValidationBudget {
 public:
  explicit ValidationBudget(std::int64_t max_failures) : max_(max_failures) {}
  // Counts `failures` more; false once the task's total has passed the maximum.
  bool spend(std::int64_t failures) { return (spent_ += failures) <= max_; }
  [[nodiscard]] bool exhausted() const { return spent_.load() > max_; }
  [[nodiscard]] std::int64_t max() const { return max_; }

 private:
  std::int64_t max_;
  std::atomic<std::int64_t> spent_{0};
};

struct TableValidationRequest {
  PgEndpoint source;
  PgEndpoint target;
  QualifiedName source_table;
  QualifiedName target_table;
  std::string task_name;       // the task resource id (TASK_NAME of the failures table)
  std::string control_schema;  // ControlTablesSettings.ControlSchema
  // The task's TableMappings: the table's selection filters narrow the source rows, and its
  // column transformations name the target columns. Empty: all rows, columns by name.
  std::string table_mappings;
  ValidationSettings settings;
  std::stop_token stop;  // checked between partitions
  // Optional: the table's validation while it goes on (rows compared so far).
  std::function<void(const TableValidation&)> on_progress;
  // Optional: VALIDATOR log lines.
  std::function<void(LogSeverity, std::string_view)> log;
};

// Compares one table's rows on the source and the target by primary key, PartitionSize rows at a
// time in key order, ThreadCount partitions at once, and records each failure in the target's
// awsdms_validation_failures_v1. Keys are ordered byte-wise ("C" collation) on both sides, so
// partitions line up whatever collations the two databases use. Never holds more than a
// partition per worker in memory. Never throws for a database problem: the result says Error.
TableValidation validate_table(const TableValidationRequest& request, ValidationBudget& budget);

}  // namespace dagster_dms::replicate
