#include "replicate/thread_pool.hpp"

#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace dagster_dms::replicate {

void run_workers(std::size_t workers, const std::function<void(std::size_t)>& body) {
  std::mutex mutex;
  std::exception_ptr first_error;
  {
    std::vector<std::jthread> threads;
    threads.reserve(workers);
    for (std::size_t i = 0; i < workers; ++i) {
      threads.emplace_back([&, i] {
        try {
          body(i);
        } catch (...) {
          const std::lock_guard lock(mutex);
          if (!first_error) first_error = std::current_exception();
        }
      });
    }
  }  // jthreads join here
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace dagster_dms::replicate
