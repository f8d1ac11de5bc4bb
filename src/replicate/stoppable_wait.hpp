#pragma once

#include <chrono>
#include <stop_token>

namespace dagster_dms::replicate {

// Waits `duration`, or less when `stop` fires first. True when the whole wait passed.
bool wait_unless_stopped(std::chrono::milliseconds duration, const std::stop_token& stop);

}  // namespace dagster_dms::replicate
