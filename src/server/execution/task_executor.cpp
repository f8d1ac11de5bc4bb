#include "server/execution/task_executor.hpp"

namespace dagster_dms::server {

void NoDataPlaneExecutor::start(const TaskRun& /*run*/, std::shared_ptr<TaskCallbacks> callbacks) {
  callbacks->on_failed(kMessage);
}

void NoDataPlaneExecutor::stop(const std::string& /*task_arn*/) {}

void HoldExecutor::start(const TaskRun& run, std::shared_ptr<TaskCallbacks> callbacks) {
  {
    const std::lock_guard lock(mutex_);
    runs_[run.task.replication_task_arn.value_or("")] = callbacks;
  }
  // A run that captures changes shows `running` only once it says so (there is no slot to wait
  // for here). Outside our lock: the callback takes the service's lock.
  callbacks->on_running();
}

void HoldExecutor::stop(const std::string& task_arn) {
  std::shared_ptr<TaskCallbacks> callbacks;
  {
    const std::lock_guard lock(mutex_);
    const auto it = runs_.find(task_arn);
    if (it == runs_.end()) return;
    callbacks = std::move(it->second);
    runs_.erase(it);
  }
  // Outside our lock: the callback takes the service's lock.
  callbacks->on_stopped();
}

void HoldExecutor::shutdown() {
  const std::lock_guard lock(mutex_);
  runs_.clear();
}

}  // namespace dagster_dms::server
