#include "aws/clock.hpp"

#include <thread>

namespace dagster_dms::aws {

void SystemClock::sleep_for(std::chrono::milliseconds duration) {
  std::this_thread::sleep_for(duration);
}

}  // namespace dagster_dms::aws
