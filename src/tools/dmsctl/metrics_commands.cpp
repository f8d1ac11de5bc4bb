// dmsctl metrics: a task's CloudWatch metrics (namespace AWS/DMS) over the last hour.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "aws/errors.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

constexpr const char* kNamespace = "AWS/DMS";
constexpr std::int64_t kPeriodSeconds = 60;
constexpr const char* kStatistic = "Average";
constexpr auto kWindow = std::chrono::hours(1);

// The task-level metrics DMS publishes with the ReplicationInstanceIdentifier and
// ReplicationTaskIdentifier dimensions. CDC latency is only here (ReplicationTaskStats has none).
constexpr std::array<const char*, 15> kMetricNames = {
    "CDCLatencySource",
    "CDCLatencyTarget",
    "CDCIncomingChanges",
    "CDCChangesMemorySource",
    "CDCChangesMemoryTarget",
    "CDCChangesDiskSource",
    "CDCChangesDiskTarget",
    "CDCThroughputRowsSource",
    "CDCThroughputRowsTarget",
    "CDCThroughputBandwidthSource",
    "CDCThroughputBandwidthTarget",
    "FullLoadThroughputRowsSource",
    "FullLoadThroughputRowsTarget",
    "FullLoadThroughputBandwidthSource",
    "FullLoadThroughputBandwidthTarget",
};

struct Series {
  std::string name;
  std::vector<std::pair<dms::Timestamp, double>> points;  // oldest first
};

std::vector<dms::cloudwatch::Dimension> dimensions_for(const std::string& instance_id,
                                                       const std::string& task_id) {
  return {dms::cloudwatch::Dimension{"ReplicationInstanceIdentifier", instance_id, {}},
          dms::cloudwatch::Dimension{"ReplicationTaskIdentifier", task_id, {}}};
}

void sort_points(Series& series) {
  std::sort(series.points.begin(), series.points.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

// One batched GetMetricData call (or a few pages) for every metric.
std::vector<Series> read_batched(dms::CloudWatchClient& client,
                                 const std::vector<dms::cloudwatch::Dimension>& dimensions,
                                 dms::Timestamp start, dms::Timestamp end) {
  std::vector<dms::cloudwatch::MetricDataQuery> queries;
  for (std::size_t i = 0; i < kMetricNames.size(); ++i) {
    dms::cloudwatch::MetricDataQuery query;
    query.id = fmt::format("m{}", i);
    query.label = kMetricNames[i];
    dms::cloudwatch::MetricStat stat;
    stat.metric.namespace_ = kNamespace;
    stat.metric.metric_name = kMetricNames[i];
    stat.metric.dimensions = dimensions;
    stat.period = kPeriodSeconds;
    stat.stat = kStatistic;
    query.metric_stat = std::move(stat);
    query.return_data = true;
    queries.push_back(std::move(query));
  }
  const auto output = client.get_metric_data_all(std::move(queries), start, end);
  std::vector<Series> all;
  for (std::size_t i = 0; i < kMetricNames.size(); ++i) all.push_back({kMetricNames[i], {}});
  for (const auto& result :
       output.metric_data_results.value_or(std::vector<dms::cloudwatch::MetricDataResult>{})) {
    const std::string id = result.id.value_or("");
    if (id.size() < 2 || id[0] != 'm') continue;
    const std::size_t index = std::stoul(id.substr(1));
    if (index >= all.size()) continue;
    const auto& times = result.timestamps.value_or(std::vector<dms::Timestamp>{});
    const auto& values = result.values.value_or(std::vector<double>{});
    for (std::size_t k = 0; k < std::min(times.size(), values.size()); ++k) {
      all[index].points.emplace_back(times[k], values[k]);
    }
  }
  for (auto& series : all) sort_points(series);
  return all;
}

// The baseline IAM policy grants only GetMetricStatistics: one call per metric.
std::vector<Series> read_one_by_one(dms::CloudWatchClient& client,
                                    const std::vector<dms::cloudwatch::Dimension>& dimensions,
                                    dms::Timestamp start, dms::Timestamp end) {
  std::vector<Series> all;
  for (const char* name : kMetricNames) {
    dms::cloudwatch::GetMetricStatisticsInput input;
    input.namespace_ = kNamespace;
    input.metric_name = name;
    input.dimensions = dimensions;
    input.start_time = start;
    input.end_time = end;
    input.period = kPeriodSeconds;
    input.statistics = std::vector<std::string>{kStatistic};
    const auto output = client.get_metric_statistics(input);
    Series series{name, {}};
    for (const auto& point :
         output.datapoints.value_or(std::vector<dms::cloudwatch::Datapoint>{})) {
      if (point.timestamp && point.average)
        series.points.emplace_back(*point.timestamp, *point.average);
    }
    sort_points(series);
    all.push_back(std::move(series));
  }
  return all;
}

std::string format_value(double value) {
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{:.3f}", value);
}

void show_metrics(CommandContext& context, const std::string& name) {
  auto& dms_client = context.clients.dms();
  const dms::ReplicationTask task = find_task(dms_client, name, false);
  const std::string task_id = arn_resource_id(task.replication_task_arn.value_or(""));
  const dms::ReplicationInstance instance =
      find_instance(dms_client, task.replication_instance_arn.value_or(""));
  const std::string instance_id = instance.replication_instance_identifier.value_or("");
  const auto dimensions = dimensions_for(instance_id, task_id);

  // Whole minutes, so the periods line up with CloudWatch's.
  const dms::Timestamp end =
      std::chrono::ceil<std::chrono::minutes>(std::chrono::system_clock::now());
  const dms::Timestamp start = end - kWindow;
  auto& cloudwatch = context.clients.cloudwatch();
  std::string source = "GetMetricData";
  std::vector<Series> series;
  try {
    series = read_batched(cloudwatch, dimensions, start, end);
  } catch (const aws::ServiceError& e) {
    if (!e.is_access_denied()) throw;
    note(
        "cloudwatch:GetMetricData is not allowed; reading each metric with GetMetricStatistics "
        "instead (grant cloudwatch:GetMetricData to fetch them in one batched call)");
    source = "GetMetricStatistics";
    series = read_one_by_one(cloudwatch, dimensions, start, end);
  }

  if (context.json()) {
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& s : series) {
      nlohmann::json times = nlohmann::json::array();
      nlohmann::json values = nlohmann::json::array();
      for (const auto& [when, value] : s.points) {
        times.push_back(json_time(when));
        values.push_back(value);
      }
      nlohmann::json metric = {{"MetricName", s.name}, {"Timestamps", times}, {"Values", values}};
      metric["Latest"] =
          s.points.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.points.back().second);
      metrics.push_back(std::move(metric));
    }
    print_json({{"ReplicationTaskArn", task.replication_task_arn.value_or("")},
                {"ReplicationTaskIdentifier", task_id},
                {"ReplicationInstanceIdentifier", instance_id},
                {"Namespace", kNamespace},
                {"Statistic", kStatistic},
                {"PeriodSeconds", kPeriodSeconds},
                {"StartTime", json_time(start)},
                {"EndTime", json_time(end)},
                {"Source", source},
                {"Metrics", std::move(metrics)}});
    return;
  }
  fmt::print("{} on {}: {} per {} s, {} to {}\n\n",
             task.replication_task_identifier.value_or(task_id), instance_id, kStatistic,
             kPeriodSeconds, dms::format_iso8601(start), dms::format_iso8601(end));
  Table table({"METRIC", "LATEST", "AT", "DATAPOINTS"});
  for (const auto& s : series) {
    if (s.points.empty()) {
      table.add_row({s.name, "-", "-", "0"});
    } else {
      table.add_row({s.name, format_value(s.points.back().second),
                     dms::format_iso8601(s.points.back().first), std::to_string(s.points.size())});
    }
  }
  table.print();
}

}  // namespace

void add_metrics_commands(CLI::App& app, CommandContext& context) {
  auto task = std::make_shared<std::string>();
  CLI::App* metrics =
      app.add_subcommand("metrics", "Show a task's CloudWatch metrics (AWS/DMS) for the last hour");
  metrics->add_option("task", *task, "Task identifier or ARN")->required();
  metrics->callback(
      [&context, task] { context.action = [&context, task] { show_metrics(context, *task); }; });
}

}  // namespace dagster_dms::dmsctl
