#include "orchestrate/cdc_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "orchestrate/metric_reader.hpp"

namespace dagster_dms::orchestrate {
namespace {

constexpr std::array<std::string_view, 3> kCdcMetrics = {kCdcLatencySource, kCdcLatencyTarget,
                                                         kCdcIncomingChanges};

}  // namespace

bool valid_metrics_period(int seconds) {
  constexpr std::array<int, 5> kShort = {1, 5, 10, 20, 30};
  return std::find(kShort.begin(), kShort.end(), seconds) != kShort.end() ||
         (seconds > 0 && seconds % 60 == 0);
}

std::map<std::string, CdcMetrics> latest_cdc_metrics(dms::CloudWatchClient& client,
                                                     const std::vector<MetricTask>& tasks,
                                                     int period_seconds,
                                                     std::vector<std::string>& notes) {
  std::map<std::string, CdcMetrics> by_arn;
  if (tasks.empty()) return by_arn;
  std::vector<MetricQuery> queries;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const auto dimensions =
        task_metric_dimensions(tasks[i].instance_identifier, tasks[i].resource_id);
    for (std::size_t j = 0; j < kCdcMetrics.size(); ++j) {
      queries.push_back({fmt::format("t{}m{}", i, j), std::string(kCdcMetrics[j]), dimensions});
    }
  }
  const auto end = std::chrono::system_clock::now();
  const auto lookback = std::max<std::chrono::seconds>(std::chrono::minutes(2),
                                                       std::chrono::seconds(15LL * period_seconds));
  const MetricReading reading = read_metrics(client, queries, end - lookback, end, period_seconds);
  for (const auto& note : reading.notes) {
    if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
  }
  for (std::size_t q = 0; q < reading.series.size() && q < queries.size(); ++q) {
    const auto& points = reading.series[q].points;
    const std::size_t task = q / kCdcMetrics.size();
    CdcMetrics& metrics = by_arn[tasks[task].arn];
    if (!points.empty()) metrics.latest[queries[q].metric] = points.back().second;
  }
  return by_arn;
}

}  // namespace dagster_dms::orchestrate
