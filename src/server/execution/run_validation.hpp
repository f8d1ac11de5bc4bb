#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dms/model/dms_model.hpp"
#include "replicate/full_load.hpp"
#include "replicate/validation_settings.hpp"
#include "replicate/validation_state.hpp"
#include "replicate/validation_table.hpp"

namespace dagster_dms::server {

// Where a run's validation compares and what it is called on the target.
struct RunValidationContext {
  replicate::PgEndpoint source;
  replicate::PgEndpoint target;
  std::string task_name;       // the task resource id
  std::string control_schema;  // ControlTablesSettings.ControlSchema
  std::string table_mappings;  // the task's TableMappings
  replicate::ValidationSettings settings;
};

// The data validation of one run (ValidationSettings): each table's ValidationState and record
// counts, and the comparisons still to do. A full-load run compares on its own thread after the
// load (validate_waiting); a CDC run compares on a thread of its own, so replication goes on
// meanwhile (start_background). Thread-safe.
class RunValidation {
 public:
  using Listener = std::function<void()>;
  using LogSink = std::function<void(replicate::LogSeverity, std::string_view)>;

  // Disabled (`context` nullopt): every table shows "Not enabled" and requests are refused.
  explicit RunValidation(std::optional<RunValidationContext> context);
  ~RunValidation();
  RunValidation(const RunValidation&) = delete;
  RunValidation& operator=(const RunValidation&) = delete;

  // Told after every change of a table's validation (the run republishes its statistics), and
  // where VALIDATOR log lines go. Set once, before any table is queued.
  void set_listener(Listener on_change, LogSink log);

  [[nodiscard]] bool enabled() const { return context_.has_value(); }
  [[nodiscard]] const replicate::ValidationSettings* settings() const {
    return context_ ? &context_->settings : nullptr;
  }

  // The run's tables as the engine knows them: new ones show "Pending validation" (or "Table
  // error" when their load failed, so some data was never migrated).
  void tables_known(const std::vector<replicate::TableStatus>& tables);
  // Compares these tables (whole) as soon as a comparison is free, after `delay`.
  void queue(const std::vector<replicate::TableStatus>& tables,
             std::chrono::seconds delay = std::chrono::seconds(0));
  // ReloadTables validate-only: the named source tables are compared again from scratch.
  // Returns one entry per table: empty when accepted, else why not. Never calls the listener
  // (the caller may hold the control plane's lock).
  std::vector<std::string> revalidate(const std::vector<dms::TableToReload>& tables);
  // CDC changed `changes` rows of a table: they wait ValidationQueryCdcDelaySeconds, then the
  // table is compared again.
  void changed(const replicate::TableStatus& table, std::int64_t changes);

  // Runs the waiting comparisons on the calling thread until none is left (full-load runs).
  void validate_waiting(const std::stop_token& stop);
  // Runs the comparisons on a thread of this object's until stop() (CDC runs).
  void start_background();
  // Ends the background comparisons and waits for them; the run is ending.
  void stop();

  // The run's validation summed over its tables, for the Validation* CloudWatch metrics.
  [[nodiscard]] replicate::TableValidation totals() const;

  // A table's validation for DescribeTableStatistics.
  [[nodiscard]] replicate::TableValidation state_of(const replicate::QualifiedName& source) const;

 private:
  struct Job {
    replicate::TableStatus table;
    std::chrono::steady_clock::time_point due;
  };

  // The next job due, waiting for it; nullopt once stopped (or, `block` false, when none is due).
  std::optional<Job> next_job(const std::stop_token& stop, bool block);
  void run_job(const Job& job, const std::stop_token& stop);
  void set_state(const replicate::QualifiedName& source, const replicate::TableValidation& state);
  void notify() const;

  std::optional<RunValidationContext> context_;
  std::unique_ptr<replicate::ValidationBudget> budget_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::map<replicate::QualifiedName, replicate::TableValidation> states_;
  std::map<replicate::QualifiedName, replicate::TableStatus> tables_;
  std::vector<Job> jobs_;
  Listener on_change_;
  LogSink log_;
  std::jthread thread_;  // last: stopped and joined first
};

}  // namespace dagster_dms::server
