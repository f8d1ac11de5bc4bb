#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace dagster_dms::server {

// Runs delayed work (status transitions such as starting -> running) on one background thread,
// so request handlers answer at once, as AWS does, and the change shows up a moment later.
class Scheduler {
 public:
  Scheduler();
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void schedule(std::chrono::milliseconds delay, std::function<void()> work);
  // Drops pending work and joins the thread. Idempotent.
  void shutdown();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dagster_dms::server
