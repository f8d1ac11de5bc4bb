#include "orchestrate/metric_reader.hpp"

#include <algorithm>
#include <map>

#include "aws/errors.hpp"

namespace dagster_dms::orchestrate {
namespace {

constexpr const char* kBatchedDenied =
    "cloudwatch:GetMetricData is not allowed; reading each metric with GetMetricStatistics "
    "instead (grant cloudwatch:GetMetricData to fetch them in one batched call)";
constexpr const char* kStatisticsDenied =
    "cloudwatch:GetMetricStatistics is not allowed: no metrics shown (grant "
    "cloudwatch:GetMetricData or cloudwatch:GetMetricStatistics to see them)";

void sort_points(MetricSeries& series) {
  std::sort(series.points.begin(), series.points.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

std::vector<MetricSeries> empty_series(const std::vector<MetricQuery>& queries) {
  std::vector<MetricSeries> all;
  all.reserve(queries.size());
  for (const auto& query : queries) all.push_back({query.id, {}});
  return all;
}

std::vector<MetricSeries> read_batched(dms::CloudWatchClient& client,
                                       const std::vector<MetricQuery>& queries,
                                       dms::Timestamp start, dms::Timestamp end, int period_seconds,
                                       const std::string& statistic) {
  std::vector<dms::cloudwatch::MetricDataQuery> wire;
  wire.reserve(queries.size());
  for (const auto& query : queries) {
    dms::cloudwatch::MetricDataQuery item;
    item.id = query.id;
    dms::cloudwatch::MetricStat stat;
    stat.metric.namespace_ = kDmsMetricsNamespace;
    stat.metric.metric_name = query.metric;
    stat.metric.dimensions = query.dimensions;
    stat.period = period_seconds;
    stat.stat = statistic;
    item.metric_stat = std::move(stat);
    item.return_data = true;
    wire.push_back(std::move(item));
  }
  const auto output = client.get_metric_data_all(std::move(wire), start, end);
  std::vector<MetricSeries> all = empty_series(queries);
  std::map<std::string, std::size_t> index_of;
  for (std::size_t i = 0; i < queries.size(); ++i) index_of.emplace(queries[i].id, i);
  for (const auto& result :
       output.metric_data_results.value_or(std::vector<dms::cloudwatch::MetricDataResult>{})) {
    const auto found = index_of.find(result.id.value_or(""));
    if (found == index_of.end()) continue;
    const auto& times = result.timestamps.value_or(std::vector<dms::Timestamp>{});
    const auto& values = result.values.value_or(std::vector<double>{});
    for (std::size_t k = 0; k < std::min(times.size(), values.size()); ++k) {
      all[found->second].points.emplace_back(times[k], values[k]);
    }
  }
  for (auto& series : all) sort_points(series);
  return all;
}

std::vector<MetricSeries> read_one_by_one(dms::CloudWatchClient& client,
                                          const std::vector<MetricQuery>& queries,
                                          dms::Timestamp start, dms::Timestamp end,
                                          int period_seconds, const std::string& statistic) {
  std::vector<MetricSeries> all = empty_series(queries);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    dms::cloudwatch::GetMetricStatisticsInput input;
    input.namespace_ = kDmsMetricsNamespace;
    input.metric_name = queries[i].metric;
    input.dimensions = queries[i].dimensions;
    input.start_time = start;
    input.end_time = end;
    input.period = period_seconds;
    input.statistics = std::vector<std::string>{statistic};
    const auto output = client.get_metric_statistics(input);
    for (const auto& point :
         output.datapoints.value_or(std::vector<dms::cloudwatch::Datapoint>{})) {
      // GetMetricStatistics answers each statistic in its own member.
      std::optional<double> value;
      if (statistic == "Average") value = point.average;
      if (statistic == "Maximum") value = point.maximum;
      if (statistic == "Minimum") value = point.minimum;
      if (statistic == "Sum") value = point.sum;
      if (statistic == "SampleCount") value = point.sample_count;
      if (point.timestamp && value) all[i].points.emplace_back(*point.timestamp, *value);
    }
    sort_points(all[i]);
  }
  return all;
}

}  // namespace

MetricReading read_metrics(dms::CloudWatchClient& client, const std::vector<MetricQuery>& queries,
                           dms::Timestamp start, dms::Timestamp end, int period_seconds,
                           const std::string& statistic) {
  MetricReading reading;
  if (queries.empty()) return reading;
  try {
    reading.series = read_batched(client, queries, start, end, period_seconds, statistic);
    reading.source = "GetMetricData";
    return reading;
  } catch (const aws::ServiceError& e) {
    if (!e.is_access_denied()) throw;
    reading.notes.emplace_back(kBatchedDenied);
  }
  try {
    reading.series = read_one_by_one(client, queries, start, end, period_seconds, statistic);
    reading.source = "GetMetricStatistics";
  } catch (const aws::ServiceError& e) {
    if (!e.is_access_denied()) throw;
    reading.notes.emplace_back(kStatisticsDenied);
    reading.series = empty_series(queries);
  }
  return reading;
}

std::vector<dms::cloudwatch::Dimension> task_metric_dimensions(const std::string& instance_id,
                                                               const std::string& task_id) {
  return {dms::cloudwatch::Dimension{"ReplicationInstanceIdentifier", instance_id, {}},
          dms::cloudwatch::Dimension{"ReplicationTaskIdentifier", task_id, {}}};
}

}  // namespace dagster_dms::orchestrate
