#pragma once

#include <chrono>

#include "aws/clock.hpp"

namespace dagster_dms::fuzz {

// A clock that stands still at a given second since the epoch and never sleeps, so a fuzz input
// gives the same answer every time it runs.
class FixedClock final : public aws::Clock {
 public:
  explicit FixedClock(std::chrono::seconds since_epoch) : since_epoch_(since_epoch) {}
  [[nodiscard]] aws::TimePoint now() const override { return aws::TimePoint{} + since_epoch_; }
  void sleep_for(std::chrono::milliseconds /*duration*/) override {}

 private:
  std::chrono::seconds since_epoch_;
};

}  // namespace dagster_dms::fuzz
