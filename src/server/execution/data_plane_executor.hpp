#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/execution/reload_requests.hpp"
#include "server/execution/run_validation.hpp"
#include "server/execution/task_executor.hpp"
#include "server/runtime/logger.hpp"
#include "server/telemetry/task_telemetry.hpp"

namespace dagster_dms::server {

struct DataPlaneExecutorOptions {
  // Where `s3` target endpoints write (`<root>/<bucket>/<folder>/...`); without it, a task with
  // an s3 target fails and names --s3-root.
  std::optional<std::filesystem::path> s3_root;
  // Progress and table statistics are written to SQLite at most this often per run; the end of
  // a run is always reported.
  std::chrono::milliseconds report_interval{250};
  // The engine's log lines go here (optional; not owned).
  Logger* logger = nullptr;
  // Where the task's CloudWatch log lines and metric counters go (optional; not owned).
  TaskTelemetry* telemetry = nullptr;
  // Fault injection (optional): how long a CDC run waits before each commit on the target; asked
  // at every commit, so a change at runtime applies at once.
  std::function<std::chrono::milliseconds()> cdc_apply_delay;
};

// The real data plane: each run works on its own thread, a full-load task as a full-load run
// (full_load_run.hpp), a cdc or full-load-and-cdc task (postgres source) as a CDC run
// (cdc_run.hpp); both report through the task's callbacks.
class DataPlaneExecutor final : public TaskExecutor {
 public:
  explicit DataPlaneExecutor(DataPlaneExecutorOptions options);
  ~DataPlaneExecutor() override;
  DataPlaneExecutor(const DataPlaneExecutor&) = delete;
  DataPlaneExecutor& operator=(const DataPlaneExecutor&) = delete;

  void start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) override;
  void stop(const std::string& task_arn) override;
  void shutdown() override;
  // A full-load run reloads tables once its load has been through every table, before it
  // reports its end; a CDC run reloads them while it replicates (replicate/cdc_reload.hpp). A
  // run that has ended (or is ending) refuses.
  std::vector<std::string> reload(const std::string& task_arn,
                                  const std::vector<dms::TableToReload>& tables) override;
  // ReloadTables validate-only: the run compares the tables again (run_validation.hpp).
  std::vector<std::string> validate(const std::string& task_arn,
                                    const std::vector<dms::TableToReload>& tables) override;
  // Drops a CDC task's replication slot and publications from its source.
  void task_deleted(const TaskRun& run) override;

 private:
  struct Run {
    ReloadRequests reloads;
    std::unique_ptr<RunValidation> validation;
    std::atomic<bool> done{false};
    std::jthread thread;  // last: joined before `done` goes away
  };

  // Joins runs whose threads have ended, so finished tasks do not keep a thread object around.
  void reap_finished_locked();

  DataPlaneExecutorOptions options_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Run>> runs_;  // by task ARN
  bool shutting_down_ = false;
};

}  // namespace dagster_dms::server
