// dmsctl metrics: a task's CloudWatch metrics (namespace AWS/DMS) over the last hour.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "orchestrate/metric_reader.hpp"
#include "output.hpp"
#include "resolve.hpp"

namespace dagster_dms::dmsctl {
namespace {

constexpr int kPeriodSeconds = 60;
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

std::vector<orchestrate::MetricQuery> task_queries(const std::string& instance_id,
                                                   const std::string& task_id) {
  const auto dimensions = orchestrate::task_metric_dimensions(instance_id, task_id);
  std::vector<orchestrate::MetricQuery> queries;
  // Query ids must start with a lowercase letter; the answers come back in the queries' order.
  for (std::size_t i = 0; i < kMetricNames.size(); ++i) {
    queries.push_back({fmt::format("m{}", i), kMetricNames[i], dimensions});
  }
  return queries;
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

  // Whole minutes, so the periods line up with CloudWatch's.
  const dms::Timestamp end =
      std::chrono::ceil<std::chrono::minutes>(std::chrono::system_clock::now());
  const dms::Timestamp start = end - kWindow;
  orchestrate::MetricReading reading =
      orchestrate::read_metrics(context.clients.cloudwatch(), task_queries(instance_id, task_id),
                                start, end, kPeriodSeconds, kStatistic);
  for (const auto& message : reading.notes) note(message);
  const std::vector<orchestrate::MetricSeries>& series = reading.series;
  const std::string& source = reading.source;

  if (context.json()) {
    nlohmann::json metrics = nlohmann::json::array();
    for (std::size_t i = 0; i < series.size(); ++i) {
      const auto& s = series[i];
      nlohmann::json times = nlohmann::json::array();
      nlohmann::json values = nlohmann::json::array();
      for (const auto& [when, value] : s.points) {
        times.push_back(json_time(when));
        values.push_back(value);
      }
      nlohmann::json metric = {
          {"MetricName", kMetricNames[i]}, {"Timestamps", times}, {"Values", values}};
      metric["Latest"] =
          s.points.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.points.back().second);
      metrics.push_back(std::move(metric));
    }
    print_json({{"ReplicationTaskArn", task.replication_task_arn.value_or("")},
                {"ReplicationTaskIdentifier", task_id},
                {"ReplicationInstanceIdentifier", instance_id},
                {"Namespace", orchestrate::kDmsMetricsNamespace},
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
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    if (s.points.empty()) {
      table.add_row({kMetricNames[i], "-", "-", "0"});
    } else {
      table.add_row({kMetricNames[i], format_value(s.points.back().second),
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
