#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

// A token bucket as the DMS API applies it: `capacity` requests at once, refilled continuously at
// `refill_per_second`. Time comes from the caller, so a test can drive it with a fake clock.
class TokenBucket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  TokenBucket(double capacity, double refill_per_second, TimePoint now);

  // Takes one token if there is one; false means the request is throttled.
  bool try_take(TimePoint now);
  [[nodiscard]] double tokens(TimePoint now) const;

 private:
  double capacity_;
  double refill_per_second_;
  double tokens_;
  TimePoint updated_;
};

// The longest CDC apply delay accepted (command line and admin endpoint). The engine sends no
// status to the source while it waits: half a minute stays clear of PostgreSQL's
// wal_sender_timeout (60 s by default), which would end the replication connection.
inline constexpr std::int64_t kMaxCdcApplyDelayMs = 30'000;

// What dms-local injects, for tests and benchmarks. Everything is off by default.
struct FaultSettings {
  // Added before every signed request is answered.
  std::chrono::milliseconds latency{0};
  // Emulates the DMS API rate limit: per account and region, 400 ThrottlingException
  // "Rate exceeded" once the bucket is empty. AWS's documented bucket: 200 burst, 8 per second.
  bool throttle = false;
  double throttle_burst = 200;
  double throttle_refill_per_second = 8;
  // Probability that a request answers 500 InternalFailure or 503 ServiceUnavailable (half each)
  // without being processed.
  double server_error_rate = 0;
  // How long the CDC engine waits before committing each source transaction on the target, so
  // changes pile up and CDCLatencySource/Target really grow (the engine reads and applies in
  // order: a slow apply delays reading too). A stop is never held up by it.
  std::chrono::milliseconds cdc_apply_delay{0};
};

// How many faults were injected, so a benchmark can report how often it was throttled.
struct FaultCounters {
  std::uint64_t requests = 0;
  std::uint64_t delayed = 0;
  std::uint64_t throttled = 0;
  std::uint64_t internal_failures = 0;
  std::uint64_t service_unavailable = 0;
  std::uint64_t cdc_commits_delayed = 0;
};

// Decides, per signed request, whether to delay it and whether to fail it. Thread-safe: the HTTP
// front calls it from its worker threads and the admin endpoint changes it at runtime.
class FaultInjector {
 public:
  using Now = std::function<TokenBucket::TimePoint()>;
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  FaultInjector();
  // For tests: an injected monotonic clock and sleep.
  FaultInjector(Now now, Sleep sleep, std::uint64_t seed);

  // Sleeps the configured latency, then throws the ApiError to answer instead of processing the
  // request, if any. `service` is the signing name: throttling applies to "dms" only, as the
  // bucket is the DMS API's.
  void before_dispatch(const std::string& account, const std::string& region,
                       std::string_view service);

  // The delay to apply before one CDC commit on the target (counted when it is not zero).
  [[nodiscard]] std::chrono::milliseconds take_cdc_apply_delay();

  [[nodiscard]] FaultSettings settings() const;
  // Replaces the settings; buckets start full again when the throttle parameters change.
  void configure(const FaultSettings& settings);
  [[nodiscard]] FaultCounters counters() const;

  // The admin endpoint's documents. GET answers state_json(); POST takes a partial object of the
  // same keys (latency_ms, throttle, throttle_burst, throttle_refill_per_second,
  // server_error_rate, cdc_apply_delay_ms), plus "reset_counters": true and "seed": N for
  // reproducible 5xx rolls. Invalid documents throw ApiError 400 naming the problem; nothing is
  // changed then.
  [[nodiscard]] nlohmann::json state_json() const;
  void apply_json(const nlohmann::json& change);

 private:
  Now now_;
  Sleep sleep_;
  mutable std::mutex mutex_;
  FaultSettings settings_;
  FaultCounters counters_;
  std::map<std::string, TokenBucket, std::less<>> buckets_;  // by "account/region"
  std::mt19937_64 random_;
};

// The admin endpoint answers only requests from the local machine.
bool is_loopback_address(std::string_view address);
// True for a Host header (or an Origin's authority) naming the local machine: localhost,
// 127.x.x.x or [::1], with or without a port.
bool is_loopback_authority(std::string_view authority);

}  // namespace dagster_dms::server
