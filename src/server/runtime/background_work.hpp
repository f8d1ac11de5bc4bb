#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace dagster_dms::server {

// Runs slow, independent work (a connection test waiting for a connect timeout) each on its own
// thread, so it neither blocks a request nor delays the scheduler's status transitions. Finished
// threads are joined on the next run(); shutdown() joins the rest.
class BackgroundWork {
 public:
  BackgroundWork() = default;
  ~BackgroundWork() { shutdown(); }
  BackgroundWork(const BackgroundWork&) = delete;
  BackgroundWork& operator=(const BackgroundWork&) = delete;

  // Ignored after shutdown().
  void run(std::function<void()> work) {
    const std::lock_guard lock(mutex_);
    if (stopped_) return;
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      it = (*it)->done ? jobs_.erase(it) : std::next(it);
    }
    auto job = std::make_unique<Job>();
    Job* const slot = job.get();
    job->thread = std::jthread([slot, work = std::move(work)] {
      work();
      slot->done = true;
    });
    jobs_.push_back(std::move(job));
  }

  // Waits for every job. Idempotent.
  void shutdown() {
    std::list<std::unique_ptr<Job>> jobs;
    {
      const std::lock_guard lock(mutex_);
      stopped_ = true;
      jobs.swap(jobs_);
    }
    jobs.clear();  // joins, outside our lock: a job may be waiting for the service's lock
  }

 private:
  struct Job {
    std::atomic<bool> done{false};
    std::jthread thread;  // last: joined before `done` goes away
  };
  std::mutex mutex_;
  std::list<std::unique_ptr<Job>> jobs_;
  bool stopped_ = false;
};

}  // namespace dagster_dms::server
