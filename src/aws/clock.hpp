#pragma once

#include <chrono>

namespace dagster_dms::aws {

using TimePoint = std::chrono::system_clock::time_point;

// Wall time and sleeping, injectable so retries, expiry and signing are testable without waiting.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds duration) override;
};

}  // namespace dagster_dms::aws
