#include "server/runtime/scheduler.hpp"

namespace dagster_dms::server {

Scheduler::Scheduler() : thread_([this] { run(); }) {}

Scheduler::~Scheduler() {
  shutdown();
}

void Scheduler::schedule(std::chrono::milliseconds delay, std::function<void()> work) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.emplace(std::chrono::steady_clock::now() + delay, std::move(work));
  }
  wake_.notify_one();
}

void Scheduler::shutdown() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto due = queue_.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    auto work = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    lock.unlock();
    work();
    lock.lock();
  }
}

}  // namespace dagster_dms::server
