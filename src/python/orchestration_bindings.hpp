#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "aws/clock.hpp"
#include "dms/cloudwatch_client.hpp"
#include "dms/dms_client.hpp"

namespace dagster_dms::python {

// Runs orchestrate::TaskRunner with the GIL released. `options` is a JSON document (see the .cpp);
// `on_progress(dict)` and `should_stop() -> bool` are called back with the GIL held. Returns the
// run's result as a JSON document.
std::string run_task(dms::DmsClient& client, aws::Clock& clock, const std::string& task,
                     const std::string& options, nanobind::object on_progress,
                     nanobind::object should_stop);

// The same for a serverless replication (orchestrate::ReplicationRunner): `config` is the
// replication config's ARN or identifier; the result holds "replication" instead of "task".
std::string run_replication(dms::DmsClient& client, aws::Clock& clock, const std::string& config,
                            const std::string& options, nanobind::object on_progress,
                            nanobind::object should_stop);

// One look of orchestrate::Watcher (the sensor's tick). `input`: {"tasks": [{"arn",
// "instance_identifier", "resource_id", "cdc"}], "previous": {arn: facts}, "period_seconds"};
// answers {"tasks": [{"arn", "facts", "changed", "full_load_finished_at", "cdc_latency_seconds"}],
// "missing": [arn], "notes": [...]}. The facts are what the sensor's cursor keeps.
std::string watch_tasks(dms::DmsClient& dms, dms::CloudWatchClient& cloudwatch,
                        const std::string& input);

// orchestrate::latest_cdc_metrics: {"tasks": [{"arn", "instance_identifier", "resource_id"}],
// "period_seconds"} -> {"metrics": {arn: {metric: value}}, "notes": [...]}.
std::string cdc_metrics(dms::CloudWatchClient& cloudwatch, const std::string& input);

// Lists tasks / endpoints / instances / replication-configs through orchestrate::Discovery with
// the filters in `options` (JSON); returns {"items": [{"resource": ..., "tags": {...}}], ...}.
std::string discover(dms::DmsClient& client, const std::string& kind, const std::string& options);

// The tables a task's TableMappings select (mapping::resolve_tables): `known_sources` is a JSON
// list of [schema, table] source names (from table statistics); answers {"tables": [{"source":
// [schema, table], "target": [schema, table]}], "unresolved_rule_ids": [...]}.
std::string resolve_tables(const std::string& table_mappings, const std::string& known_sources);

// orchestrate::reload_tables: `options` is {"tables": [[schema, table]], "reload_option",
// "timeout_seconds", "poll_interval_seconds"}; answers {"succeeded", "message",
// "table_statistics": [...]}.
std::string reload_tables(dms::DmsClient& client, aws::Clock& clock, const std::string& task,
                          const std::string& options, nanobind::object should_stop);

}  // namespace dagster_dms::python
