#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aws/errors.hpp"
#include "aws/transport.hpp"

namespace dagster_dms::testing {

// A scripted Transport: answers requests from a queue of responses and errors, in order, and
// records every request it was given. With a handler set, the handler answers whatever the queue
// does not. An unscripted request fails with TransportError (kConnect), as an absent server would.
// Thread-safe.
class FakeTransport final : public aws::Transport {
 public:
  using Handler = std::function<aws::HttpResponse(const aws::HttpRequest&)>;

  void push_response(aws::HttpResponse response) {
    std::lock_guard lock(mutex_);
    script_.emplace_back(std::move(response));
  }
  void push_response(long status, std::string body, aws::HttpHeaders headers = {}) {
    push_response(aws::HttpResponse{status, std::move(headers), std::move(body)});
  }
  void push_error(aws::TransportError error) {
    std::lock_guard lock(mutex_);
    script_.emplace_back(std::move(error));
  }
  // Answers requests once the scripted queue is empty (may throw TransportError itself).
  void set_handler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  aws::HttpResponse send(const aws::HttpRequest& request) override {
    Handler handler;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      if (!script_.empty()) {
        auto next = std::move(script_.front());
        script_.pop_front();
        if (auto* error = std::get_if<aws::TransportError>(&next)) throw *error;
        return std::get<aws::HttpResponse>(std::move(next));
      }
      handler = handler_;
    }
    if (handler) return handler(request);
    throw aws::TransportError(
        aws::TransportError::Kind::kConnect,
        "FakeTransport: no scripted response for " + request.method + " " + request.url);
  }

  // A copy of every request sent so far, in order.
  [[nodiscard]] std::vector<aws::HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  [[nodiscard]] std::size_t request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  [[nodiscard]] std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return script_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::deque<std::variant<aws::HttpResponse, aws::TransportError>> script_;
  std::vector<aws::HttpRequest> requests_;
  Handler handler_;
};

}  // namespace dagster_dms::testing
