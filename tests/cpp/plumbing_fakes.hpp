#pragma once

// Fakes for the AWS plumbing tests: a clock that only moves when told (or when slept on) and a
// transport that answers from a script and remembers what it was sent.

#include <chrono>
#include <deque>
#include <mutex>
#include <variant>
#include <vector>

#include "aws/clock.hpp"
#include "aws/errors.hpp"
#include "aws/transport.hpp"

namespace dagster_dms::aws::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'440'938'160)))
      : now_(start) {}

  [[nodiscard]] TimePoint now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  void sleep_for(std::chrono::milliseconds duration) override {
    std::lock_guard lock(mutex_);
    sleeps_.push_back(duration);
    now_ += duration;
  }
  void advance(std::chrono::milliseconds duration) {
    std::lock_guard lock(mutex_);
    now_ += duration;
  }
  [[nodiscard]] std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard lock(mutex_);
    return sleeps_;
  }
  [[nodiscard]] std::chrono::milliseconds total_slept() const {
    std::lock_guard lock(mutex_);
    std::chrono::milliseconds total{0};
    for (const auto& sleep : sleeps_) total += sleep;
    return total;
  }

 private:
  mutable std::mutex mutex_;
  TimePoint now_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

inline HttpResponse json_response(long status, std::string body, HttpHeaders headers = {}) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

class ScriptedTransport final : public Transport {
 public:
  using Step = std::variant<HttpResponse, TransportError>;

  void push(HttpResponse response) { script_.emplace_back(std::move(response)); }
  void push(TransportError error) { script_.emplace_back(std::move(error)); }

  HttpResponse send(const HttpRequest& request) override {
    std::lock_guard lock(mutex_);
    sent_.push_back(request);
    if (script_.empty()) {
      throw TransportError(TransportError::Kind::kOther, "test script has no more answers");
    }
    Step step = std::move(script_.front());
    script_.pop_front();
    if (auto* error = std::get_if<TransportError>(&step)) throw *error;
    return std::get<HttpResponse>(std::move(step));
  }

  [[nodiscard]] const std::vector<HttpRequest>& sent() const { return sent_; }

 private:
  std::mutex mutex_;
  std::deque<Step> script_;
  std::vector<HttpRequest> sent_;
};

}  // namespace dagster_dms::aws::testing
