#pragma once

// Rendering of results. Two formats, chosen with --output:
//
//  * table (default): aligned columns for lists, FIELD/VALUE blocks for one resource, times as
//    ISO 8601 UTC. For people; the layout may change between versions.
//  * json: one JSON document on stdout. Stable, for machines. Resources appear exactly as the
//    AWS API spells them (wire member names, e.g. "ReplicationTaskIdentifier"), with sensitive
//    members (passwords) replaced by "****"; members dmsctl adds (Tags, Outcome, Notes...) use the
//    same PascalCase style. Every timestamp is a number of seconds since the Unix epoch (UTC),
//    the AWS wire form, fractional when the time has a fraction of a second.
//
// The JSON documents, by command (every key always present unless marked "when"):
//   tasks list              {"ReplicationTasks": [ReplicationTask + "Tags" when --tag is used]}
//   tasks describe          {"ReplicationTask": ReplicationTask}
//   tasks tables            {"ReplicationTaskArn", "TableStatistics": [TableStatistics]}
//   tasks start (no --wait) {"Started", "Notes", "ReplicationTask", "StartReplicationTaskType" when
//                            Started}
//   tasks start --wait, tasks stop, tasks wait
//                           {"Outcome": succeeded|failed|timed-out|cancelled, "Phase", "Message",
//                            "Notes", "Started", "WaitedSeconds", "ReplicationTask",
//                            "StartReplicationTaskType" when Started}
//   endpoints list          {"Endpoints": [Endpoint + "Tags" when --tag is used]}
//   endpoints test          {"Connection": Connection}
//   instances list          {"ReplicationInstances": [ReplicationInstance + "Tags" when --tag]}
//   replications list       {"ReplicationConfigs": [...], "Replications": [...]}
//   replications start/stop {"Replication": Replication}
//   logs                    {"ReplicationTaskArn", "LogGroupName", "LogStreamName",
//                            "Events": [{"Timestamp", "Message"}]}
//   metrics                 {"ReplicationTaskArn", "ReplicationTaskIdentifier",
//                            "ReplicationInstanceIdentifier", "Namespace", "Statistic",
//                            "PeriodSeconds", "StartTime", "EndTime",
//                            "Source": GetMetricData|GetMetricStatistics,
//                            "Metrics": [{"MetricName", "Latest" (null when no data),
//                                         "Timestamps", "Values"}]}  (oldest first)

#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dms/model/codec.hpp"

namespace dagster_dms::dmsctl {

enum class OutputFormat { kTable, kJson };

OutputFormat parse_output_format(std::string_view name);

// Columns padded to their widest cell; the header is printed even when there are no rows so an
// empty listing is still recognisable.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells);
  void print(std::FILE* out = stdout) const;
  [[nodiscard]] bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// One resource as "Field  value" lines; fields without a value are left out.
class Details {
 public:
  void add(std::string field, std::string value);
  void add(std::string field, const std::optional<std::string>& value);
  void print(std::FILE* out = stdout) const;

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

void print_json(const nlohmann::json& document, std::FILE* out = stdout);

// Table cells.
std::string cell(const std::optional<std::string>& value);
std::string cell(const std::optional<std::int64_t>& value);
std::string cell(const std::optional<bool>& value);
std::string cell(const std::optional<dms::Timestamp>& value);

// A timestamp as dmsctl's JSON spells it (epoch seconds).
nlohmann::json json_time(dms::Timestamp value);

// Text for stderr: newlines and tabs folded into spaces so a message stays on one line.
std::string one_line(std::string_view text);

}  // namespace dagster_dms::dmsctl
