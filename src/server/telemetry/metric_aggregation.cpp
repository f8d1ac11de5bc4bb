#include "server/telemetry/metric_aggregation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace dagster_dms::server {

namespace {

constexpr std::pair<std::string_view, Statistic> kStatistics[] = {
    {"Average", Statistic::kAverage},         {"Sum", Statistic::kSum},
    {"Minimum", Statistic::kMinimum},         {"Maximum", Statistic::kMaximum},
    {"SampleCount", Statistic::kSampleCount},
};

}  // namespace

std::optional<Statistic> parse_statistic(std::string_view name) {
  for (const auto& [text, statistic] : kStatistics) {
    if (text == name) return statistic;
  }
  return std::nullopt;
}

std::string_view statistic_name(Statistic statistic) {
  for (const auto& [text, candidate] : kStatistics) {
    if (candidate == statistic) return text;
  }
  return "";
}

double MetricBucket::value(Statistic statistic) const {
  switch (statistic) {
    case Statistic::kAverage:
      return count == 0 ? 0.0 : sum / static_cast<double>(count);
    case Statistic::kSum:
      return sum;
    case Statistic::kMinimum:
      return minimum;
    case Statistic::kMaximum:
      return maximum;
    case Statistic::kSampleCount:
      return static_cast<double>(count);
  }
  return 0;
}

std::vector<MetricBucket> aggregate(const std::vector<MetricSample>& samples,
                                    std::int64_t period_seconds) {
  const std::int64_t period_ms = std::max<std::int64_t>(1, period_seconds) * 1000;
  std::map<std::int64_t, MetricBucket> buckets;
  for (const auto& sample : samples) {
    // Floor division, so samples before 1970 would still land in the right period.
    std::int64_t start = sample.timestamp_ms - (sample.timestamp_ms % period_ms);
    if (sample.timestamp_ms < 0 && sample.timestamp_ms % period_ms != 0) start -= period_ms;
    auto [it, inserted] = buckets.try_emplace(start);
    auto& bucket = it->second;
    if (inserted) {
      bucket.start_ms = start;
      bucket.minimum = sample.value;
      bucket.maximum = sample.value;
    }
    bucket.sum += sample.value;
    bucket.minimum = std::min(bucket.minimum, sample.value);
    bucket.maximum = std::max(bucket.maximum, sample.value);
    ++bucket.count;
  }
  std::vector<MetricBucket> out;
  out.reserve(buckets.size());
  for (auto& [start, bucket] : buckets) out.push_back(bucket);
  return out;
}

std::optional<std::string> period_problem(std::int64_t period_seconds, std::string_view parameter) {
  if (period_seconds <= 0) {
    return fmt::format("The parameter {} must be greater than 0.", parameter);
  }
  const bool high_resolution = period_seconds == 1 || period_seconds == 5 || period_seconds == 10 ||
                               period_seconds == 20 || period_seconds == 30;
  if (!high_resolution && period_seconds % 60 != 0) {
    return fmt::format("The parameter {} must be 1, 5, 10, 20, 30, or a multiple of 60.",
                       parameter);
  }
  return std::nullopt;
}

}  // namespace dagster_dms::server
