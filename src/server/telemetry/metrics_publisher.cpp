#include "server/telemetry/metrics_publisher.hpp"

#include <fmt/format.h>

namespace dagster_dms::server {

namespace {

std::int64_t epoch_millis(aws::TimePoint when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

MetricKey key_of(std::string_view name, std::vector<std::pair<std::string, std::string>> dims) {
  MetricKey key{std::string(kDmsNamespace), std::string(name), std::move(dims)};
  key.sort_dimensions();
  return key;
}

}  // namespace

MetricsPublisher::MetricsPublisher(MetricsStore& store, HostSampler sampler,
                                   InstanceLister instances, const aws::Clock& clock,
                                   MetricsPublisherOptions options, Logger* logger)
    : store_(store),
      sampler_(std::move(sampler)),
      instances_(std::move(instances)),
      clock_(clock),
      options_(options),
      logger_(logger) {}

MetricsPublisher::~MetricsPublisher() {
  stop();
}

void MetricsPublisher::start() {
  // A first sample primes the CPU deltas, so the first interval already has CPU figures.
  {
    const std::lock_guard lock(mutex_);
    sampler_.sample();
  }
  thread_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(wait_mutex_);
        wake_.wait_for(lock, stop, options_.interval, [] { return false; });
      }
      if (stop.stop_requested()) return;
      try {
        publish_once();
      } catch (const std::exception& error) {
        // A full disk or a locked state file must not end the process; the next interval retries.
        if (logger_ != nullptr) {
          logger_->log(LogLevel::kWarning,
                       fmt::format("metrics: publishing failed: {}", error.what()));
        }
      }
    }
  });
}

void MetricsPublisher::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

MetricsPublisher::TaskState& MetricsPublisher::task_locked(const TaskTelemetryIdentity& task) {
  auto [it, inserted] = tasks_.try_emplace(task.task_arn);
  if (inserted || it->second.ended) {
    // A new run starts its totals from zero.
    it->second = TaskState{};
    it->second.identity = task;
  }
  return it->second;
}

void MetricsPublisher::task_totals(const TaskTelemetryIdentity& task, std::int64_t rows,
                                   std::uint64_t bytes) {
  const std::lock_guard lock(mutex_);
  auto& state = task_locked(task);
  state.rows = rows;
  state.bytes = bytes;
}

void MetricsPublisher::task_gauge(const TaskTelemetryIdentity& task, std::string_view metric_name,
                                  std::string_view unit, double value) {
  const std::lock_guard lock(mutex_);
  task_locked(task).gauges[std::string(metric_name)] = Gauge{std::string(unit), value};
}

void MetricsPublisher::task_ended(const TaskTelemetryIdentity& task) {
  const std::lock_guard lock(mutex_);
  task_locked(task).ended = true;
}

void MetricsPublisher::publish_once() {
  // Asked before taking our lock: the lister takes the control plane's lock, and the control
  // plane's threads report into this publisher.
  const auto instances = instances_();
  const std::lock_guard lock(mutex_);
  const auto now_ms = epoch_millis(clock_.now());
  const double seconds = std::chrono::duration<double>(options_.interval).count();
  const HostSample host = sampler_.sample();
  // Datapoints per (account, region), so each goes in with one transaction.
  std::map<std::pair<std::string, std::string>, std::vector<MetricDatum>> batches;
  const auto add = [&](const std::string& account, const std::string& region, MetricKey key,
                       std::string unit, double value) {
    batches[{account, region}].push_back({std::move(key), std::move(unit), now_ms, value});
  };

  for (const auto& instance : instances) {
    const std::vector<std::pair<std::string, std::string>> dims{
        {"ReplicationInstanceIdentifier", instance.identifier}};
    if (host.cpu_percent) {
      add(instance.account, instance.region, key_of("CPUUtilization", dims), "Percent",
          *host.cpu_percent);
    }
    if (host.freeable_bytes) {
      add(instance.account, instance.region, key_of("FreeableMemory", dims), "Bytes",
          *host.freeable_bytes);
    }
    if (host.free_storage_bytes) {
      add(instance.account, instance.region, key_of("FreeStorageSpace", dims), "Bytes",
          *host.free_storage_bytes);
    }
  }

  for (auto it = tasks_.begin(); it != tasks_.end();) {
    auto& state = it->second;
    const auto& task = state.identity;
    const auto dims = metric_dimensions(task);
    // Rates over the interval, so that the sum of (value x interval) is exactly what moved. The
    // engine reads and writes each row once, so source and target rates are the same figures.
    const double rows = static_cast<double>(state.rows - state.published_rows) / seconds;
    const double kilobytes =
        static_cast<double>(state.bytes - state.published_bytes) / 1024.0 / seconds;
    for (const char* side : {"Source", "Target"}) {
      add(task.account, task.region, key_of(fmt::format("FullLoadThroughputRows{}", side), dims),
          "Count/Second", rows);
      add(task.account, task.region,
          key_of(fmt::format("FullLoadThroughputBandwidth{}", side), dims), "Kilobytes/Second",
          kilobytes);
    }
    state.published_rows = state.rows;
    state.published_bytes = state.bytes;
    if (host.process_cpu_percent) {
      add(task.account, task.region, key_of("CPUUtilization", dims), "Percent",
          *host.process_cpu_percent);
    }
    if (host.process_memory_bytes) {
      add(task.account, task.region, key_of("MemoryUsage", dims), "Bytes",
          *host.process_memory_bytes);
    }
    for (const auto& [name, gauge] : state.gauges) {
      add(task.account, task.region, key_of(name, dims), gauge.unit, gauge.value);
    }
    // An ended run has now published its last interval.
    it = state.ended ? tasks_.erase(it) : std::next(it);
  }

  for (const auto& [where, data] : batches) store_.put(where.first, where.second, data);

  const auto steady_now = std::chrono::steady_clock::now();
  if (steady_now - last_prune_ >= std::chrono::minutes(1)) {
    last_prune_ = steady_now;
    store_.prune(now_ms -
                 std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count());
  }
}

}  // namespace dagster_dms::server
