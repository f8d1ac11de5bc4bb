#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dms/cloudwatch_client.hpp"
#include "dms/dms_client.hpp"
#include "orchestrate/cdc_metrics.hpp"

namespace dagster_dms::orchestrate {

// What is remembered of one task between two looks: the facts whose change is worth telling.
// Times are ISO 8601 with a "+00:00" offset, the form Python's isoformat() writes, so that a
// finish time seen here compares equal to the one a run recorded.
struct TaskFacts {
  std::string status;
  std::string stop_reason;
  std::optional<long long> percent;
  std::optional<long long> tables_loaded;
  std::optional<long long> tables_errored;
  std::optional<std::string> stop_date;
  std::optional<std::string> full_load_finish_date;
  std::optional<std::string> recovery_checkpoint;
  // A running CDC task's metrics, rounded to 0.1 so that float noise is no change:
  // "CDCLatencySource_seconds", "CDCLatencyTarget_seconds", "CDCIncomingChanges".
  std::map<std::string, double> cdc;

  friend bool operator==(const TaskFacts&, const TaskFacts&) = default;
};

struct WatchedTask {
  MetricTask task;   // ARN, instance identifier, resource id
  bool cdc = false;  // cdc or full-load-and-cdc
};

// One watched task as this look found it.
struct TaskWatch {
  std::string arn;
  TaskFacts facts;
  bool changed = false;  // differs from the previous look (or was not seen before)
  // Set when a full load completed since the previous look (never on a first look: history is
  // not replayed): a full-load task `stopped` with FULL_LOAD_ONLY_FINISHED at a new StopDate, or a
  // running full-load-and-cdc task with a new FullLoadFinishDate. Holds that time.
  std::optional<std::string> full_load_finished_at;
  // Latest CDCLatencySource / CDCLatencyTarget in seconds of a running CDC task, when published.
  std::map<std::string, double> cdc_latency_seconds;
};

struct WatchResult {
  std::vector<TaskWatch> tasks;      // every watched task that still exists
  std::vector<std::string> missing;  // watched ARNs the account no longer has
  std::vector<std::string> notes;    // e.g. a CloudWatch permission that was missing
};

// One look at many tasks, at a fixed cost whatever their number: one paginated
// DescribeReplicationTasks, and batched GetMetricData for the running CDC tasks only.
class Watcher {
 public:
  Watcher(dms::DmsClient& dms, dms::CloudWatchClient& cloudwatch)
      : dms_(dms), cloudwatch_(cloudwatch) {}

  WatchResult look(const std::vector<WatchedTask>& watched,
                   const std::map<std::string, TaskFacts>& previous, int metrics_period_seconds);

 private:
  dms::DmsClient& dms_;
  dms::CloudWatchClient& cloudwatch_;
};

TaskFacts facts_of(const dms::ReplicationTask& task);

// See TaskWatch::full_load_finished_at.
std::optional<std::string> full_load_finished(const std::optional<TaskFacts>& before,
                                              const TaskFacts& now);

// "2026-12-06T07:33:15+00:00", with ".ffffff" when there is a fraction of a second.
std::string isoformat_utc(dms::Timestamp when);

}  // namespace dagster_dms::orchestrate
