#include "orchestrate/watcher.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "orchestrate/task_verdict.hpp"

namespace dagster_dms::orchestrate {
namespace {

double rounded(double value) {
  return std::round(value * 10.0) / 10.0;
}

}  // namespace

std::string isoformat_utc(dms::Timestamp when) {
  using namespace std::chrono;
  const auto seconds = floor<std::chrono::seconds>(when);
  const auto micros = duration_cast<microseconds>(when - seconds).count();
  std::string text = fmt::format("{:%Y-%m-%dT%H:%M:%S}", seconds);
  if (micros != 0) text += fmt::format(".{:06d}", micros);
  return text + "+00:00";
}

TaskFacts facts_of(const dms::ReplicationTask& task) {
  TaskFacts facts;
  facts.status = task.status.value_or("");
  facts.stop_reason = task.stop_reason.value_or("");
  if (const auto& stats = task.replication_task_stats) {
    facts.percent = stats->full_load_progress_percent;
    facts.tables_loaded = stats->tables_loaded;
    facts.tables_errored = stats->tables_errored;
    if (stats->stop_date) facts.stop_date = isoformat_utc(*stats->stop_date);
    if (stats->full_load_finish_date) {
      facts.full_load_finish_date = isoformat_utc(*stats->full_load_finish_date);
    }
  }
  facts.recovery_checkpoint = task.recovery_checkpoint;
  return facts;
}

std::optional<std::string> full_load_finished(const std::optional<TaskFacts>& before,
                                              const TaskFacts& now) {
  if (!before) return std::nullopt;
  if (now.status == "stopped" && stop_reason_code(now.stop_reason) == "FULL_LOAD_ONLY_FINISHED" &&
      now.stop_date && now.stop_date != before->stop_date) {
    return now.stop_date;
  }
  if (now.status == "running" && now.full_load_finish_date &&
      now.full_load_finish_date != before->full_load_finish_date) {
    return now.full_load_finish_date;
  }
  return std::nullopt;
}

WatchResult Watcher::look(const std::vector<WatchedTask>& watched,
                          const std::map<std::string, TaskFacts>& previous,
                          int metrics_period_seconds) {
  WatchResult result;
  std::map<std::string, const WatchedTask*> by_arn;
  for (const auto& entry : watched) by_arn.emplace(entry.task.arn, &entry);

  dms::DescribeReplicationTasksMessage request;
  request.without_settings = true;
  const std::vector<dms::ReplicationTask> listed = dms_.describe_replication_tasks_all(request);

  std::vector<MetricTask> running_cdc;
  std::set<std::string> seen;
  for (const auto& task : listed) {
    const auto found = by_arn.find(task.replication_task_arn.value_or(""));
    if (found == by_arn.end()) continue;
    seen.insert(found->first);
    TaskWatch watch;
    watch.arn = found->first;
    watch.facts = facts_of(task);
    if (found->second->cdc && watch.facts.status == "running") {
      running_cdc.push_back(found->second->task);
    }
    result.tasks.push_back(std::move(watch));
  }

  const auto metrics =
      latest_cdc_metrics(cloudwatch_, running_cdc, metrics_period_seconds, result.notes);
  for (auto& watch : result.tasks) {
    if (const auto it = metrics.find(watch.arn); it != metrics.end()) {
      for (const auto& [name, value] : it->second.latest) {
        const bool latency = name == kCdcLatencySource || name == kCdcLatencyTarget;
        watch.facts.cdc[latency ? name + "_seconds" : name] = rounded(value);
        if (latency) watch.cdc_latency_seconds[name] = value;
      }
    }
    std::optional<TaskFacts> before;
    if (const auto it = previous.find(watch.arn); it != previous.end()) before = it->second;
    watch.changed = !before || *before != watch.facts;
    watch.full_load_finished_at = full_load_finished(before, watch.facts);
  }
  for (const auto& entry : watched) {
    if (!seen.contains(entry.task.arn)) result.missing.push_back(entry.task.arn);
  }
  return result;
}

}  // namespace dagster_dms::orchestrate
