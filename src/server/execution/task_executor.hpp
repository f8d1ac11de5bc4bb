#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dms/model/dms_model.hpp"

namespace dagster_dms::server {

// What a data plane needs to run one task: the task and both endpoints as stored, with the
// endpoint passwords the API never returns.
struct TaskRun {
  dms::ReplicationTask task;
  std::string start_type;  // start-replication, resume-processing, reload-target
  dms::Endpoint source;
  std::optional<std::string> source_password;
  dms::Endpoint target;
  std::optional<std::string> target_password;
  // The PEM CA certificates the endpoints' CertificateArn name (SslMode verify-ca/verify-full).
  std::optional<std::string> source_certificate_pem;
  std::optional<std::string> target_certificate_pem;
  // The ReplicationInstanceIdentifier its CloudWatch metrics and log group are named after.
  std::string instance_identifier;
  // The table statistics as stored: a resumed CDC run carries its counters on from them.
  std::vector<dms::TableStatistics> table_statistics;
  // The CdcStartPosition this run starts from: given with StartReplicationTask, or the task's
  // own for its first run (start-replication).
  std::optional<std::string> cdc_start_position;
};

// How a data plane reports back. Calls may come from any thread; each one is applied to the
// task's stored state at once. After on_finished, on_failed or on_stopped nothing more is read.
class TaskCallbacks {
 public:
  virtual ~TaskCallbacks() = default;
  // Progress of the running task; fields left empty keep their stored values.
  virtual void on_progress(const dms::ReplicationTaskStats& stats) = 0;
  // The whole per-table statistics list (DescribeTableStatistics answers it as given).
  virtual void on_table_statistics(const std::vector<dms::TableStatistics>& tables) = 0;
  // The task ended by itself: `stop_reason` like "Stop Reason FULL_LOAD_ONLY_FINISHED".
  virtual void on_finished(const std::string& stop_reason) = 0;
  virtual void on_failed(const std::string& message) = 0;
  // The run failed on a recoverable error (a lost connection, a restart) that its
  // ErrorBehavior retries could not get past: Stop Reason RECOVERABLE_ERROR.
  virtual void on_failed_recoverable(const std::string& message) { on_failed(message); }
  // The run ended because stop() asked it to.
  virtual void on_stopped() = 0;
  // The run is under way. Runs that capture changes (cdc, full-load-and-cdc) stay `starting`
  // until they call this, once their slot holds a position: a change committed while the task
  // already showed `running` must never be missed. Other runs are `running` from their start.
  virtual void on_running() {}
  // CDC: every change up to this point is committed on the target. Stored as the task's
  // RecoveryCheckpoint (`checkpoint:V1#...`), where resume-processing continues.
  virtual void on_checkpoint(const std::string& /*recovery_checkpoint*/) {}
};

// The seam between the control plane and a data plane: the control plane owns statuses and
// start-type rules; an executor moves data and reports through the callbacks.
class TaskExecutor {
 public:
  virtual ~TaskExecutor() = default;
  // Begins a run; must return promptly (run the work on the executor's own threads).
  virtual void start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) = 0;
  // Asks a run to end; the executor answers with on_stopped (or on_finished/on_failed if the run
  // ended first). Unknown ARNs are ignored.
  virtual void stop(const std::string& task_arn) = 0;
  // Ends every run and waits for the executor's threads; called once at shutdown.
  virtual void shutdown() {}
  // ReloadTables (data-reload) for a running run: reloads the given source tables and shows it
  // in their statistics (FullLoadReloaded). Returns one entry per table: empty when accepted,
  // else why that table cannot be reloaded. By default an executor cannot reload anything.
  virtual std::vector<std::string> reload(const std::string& task_arn,
                                          const std::vector<dms::TableToReload>& tables) {
    (void)task_arn;
    return std::vector<std::string>(tables.size(), "this dms-local executor cannot reload tables");
  }
  // ReloadTables validate-only for a running run: compares the given source tables again and
  // shows it in their ValidationState. Answers as reload() does; by default nothing validates.
  virtual std::vector<std::string> validate(const std::string& task_arn,
                                            const std::vector<dms::TableToReload>& tables) {
    (void)task_arn;
    return std::vector<std::string>(tables.size(),
                                    "this dms-local executor does not validate data");
  }
  // The task was deleted: release what its runs left on the endpoints (a CDC slot).
  virtual void task_deleted(const TaskRun& /*run*/) {}
};

// For control-plane tests only (`--test-executor none`, the fuzzers): a start fails the task and
// says why, rather than pretending a migration happened.
class NoDataPlaneExecutor final : public TaskExecutor {
 public:
  static constexpr const char* kMessage = "this dms-local build has no data plane";
  void start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) override;
  void stop(const std::string& task_arn) override;
};

// For control-plane tests only (`--test-executor hold`): a run moves no data and stays `running`
// until it is stopped, so stop, restart and state-rule behaviour can be exercised without a
// database. It never reports a finished load.
class HoldExecutor final : public TaskExecutor {
 public:
  void start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) override;
  void stop(const std::string& task_arn) override;
  void shutdown() override;

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<TaskCallbacks>> runs_;
};

}  // namespace dagster_dms::server
