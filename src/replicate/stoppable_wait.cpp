#include "replicate/stoppable_wait.hpp"

#include <condition_variable>
#include <mutex>

namespace dagster_dms::replicate {

bool wait_unless_stopped(std::chrono::milliseconds duration, const std::stop_token& stop) {
  if (duration.count() > 0) {
    std::mutex mutex;
    std::condition_variable_any woken;
    std::unique_lock lock(mutex);
    woken.wait_for(lock, stop, duration, [] { return false; });
  }
  return !stop.stop_requested();
}

}  // namespace dagster_dms::replicate
