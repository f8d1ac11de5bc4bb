#include "python/orchestration_bindings.hpp"

#include <nanobind/stl/string.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "aws/errors.hpp"
#include "mapping/table_resolution.hpp"
#include "orchestrate/cdc_metrics.hpp"
#include "orchestrate/discovery.hpp"
#include "orchestrate/runner.hpp"
#include "orchestrate/table_reload.hpp"
#include "orchestrate/watcher.hpp"

namespace nb = nanobind;
using nlohmann::json;

namespace dagster_dms::python {
namespace {

std::chrono::milliseconds seconds_option(const json& options, const char* key,
                                         std::chrono::milliseconds fallback) {
  if (!options.contains(key) || options[key].is_null()) return fallback;
  if (!options[key].is_number() || options[key].get<double>() < 0) {
    throw std::invalid_argument(std::string(key) + " must be a number of seconds >= 0");
  }
  return std::chrono::milliseconds(static_cast<long long>(options[key].get<double>() * 1000.0));
}

orchestrate::WaitGoal parse_goal(const std::string& goal) {
  if (goal == "completion") return orchestrate::WaitGoal::kCompletion;
  if (goal == "running") return orchestrate::WaitGoal::kRunning;
  if (goal == "stopped") return orchestrate::WaitGoal::kStopped;
  if (goal == "full-load-complete") return orchestrate::WaitGoal::kFullLoadComplete;
  throw std::invalid_argument("until: '" + goal +
                              "' is not one of completion, running, stopped, full-load-complete");
}

orchestrate::RunOptions parse_run_options(const json& options) {
  orchestrate::RunOptions run;
  run.start_type = options.value("start_type", run.start_type);
  if (run.start_type != "start-replication" && run.start_type != "resume-processing" &&
      run.start_type != "reload-target") {
    throw std::invalid_argument("start_type: '" + run.start_type +
                                "' is not one of start-replication, resume-processing, "
                                "reload-target");
  }
  run.goal = parse_goal(options.value("until", std::string("completion")));
  run.start_timeout = seconds_option(options, "start_timeout_seconds", run.start_timeout);
  if (options.contains("completion_timeout_seconds") &&
      !options["completion_timeout_seconds"].is_null()) {
    run.completion_timeout =
        seconds_option(options, "completion_timeout_seconds", std::chrono::milliseconds(0));
  }
  run.poll_interval_min = seconds_option(options, "poll_interval_seconds", run.poll_interval_min);
  run.poll_interval_max =
      std::max(run.poll_interval_min,
               seconds_option(options, "max_poll_interval_seconds", run.poll_interval_max));
  run.stop_on_cancel = options.value("stop_on_cancel", true);
  if (options.contains("cdc_start_time") && !options["cdc_start_time"].is_null()) {
    run.cdc_start_time = dms::parse_timestamp(options["cdc_start_time"]);
    if (!run.cdc_start_time) throw std::invalid_argument("cdc_start_time is not a timestamp");
  }
  if (options.contains("cdc_start_position") && options["cdc_start_position"].is_string()) {
    run.cdc_start_position = options["cdc_start_position"].get<std::string>();
  }
  if (options.contains("cdc_stop_position") && options["cdc_stop_position"].is_string()) {
    run.cdc_stop_position = options["cdc_stop_position"].get<std::string>();
  }
  return run;
}

json progress_to_json(const orchestrate::Progress& progress) {
  return json{{"status", progress.status},
              {"phase", orchestrate::to_string(progress.phase)},
              {"percent", progress.percent ? json(*progress.percent) : json(nullptr)},
              {"tables_loaded", progress.tables_loaded},
              {"tables_loading", progress.tables_loading},
              {"tables_queued", progress.tables_queued},
              {"tables_errored", progress.tables_errored},
              {"waited_seconds", static_cast<double>(progress.waited.count()) / 1000.0},
              {"message", progress.message}};
}

// The resource is under "task" for replication tasks and "replication" for serverless ones, as
// DMS names them in its own responses.
template <class Resource>
json result_to_json(const orchestrate::BasicRunResult<Resource>& result, const char* key) {
  json resource;
  to_json(resource, result.resource);
  return json{{"outcome", orchestrate::to_string(result.outcome)},
              {"phase", orchestrate::to_string(result.phase)},
              {key, resource},
              {"started", result.started},
              {"start_type_sent", result.start_type_sent},
              {"message", result.message},
              {"notes", result.notes},
              {"waited_seconds", static_cast<double>(result.waited.count()) / 1000.0}};
}

// Table statistics are an optional extra: without dms:DescribeTableStatistics the run still
// reports, and says which permission would add them.
void add_table_statistics(dms::DmsClient& client, const std::string& task_arn, json& out) {
  try {
    dms::DescribeTableStatisticsMessage request;
    request.replication_task_arn = task_arn;
    json tables = json::array();
    for (const auto& table : client.describe_table_statistics_all(request)) {
      json value;
      to_json(value, table);
      tables.push_back(std::move(value));
    }
    out["table_statistics"] = std::move(tables);
  } catch (const aws::ServiceError& e) {
    out["table_statistics"] = nullptr;
    out["table_statistics_error"] =
        e.is_access_denied()
            ? "grant dms:DescribeTableStatistics to see per-table row counts (" + e.code() + ")"
            : std::string(e.what());
  }
}

template <class Resource>
json discovered_to_json(const orchestrate::DiscoveryResult<Resource>& result) {
  json items = json::array();
  for (const auto& item : result.items) {
    json resource;
    to_json(resource, item.resource);
    items.push_back(json{{"resource", std::move(resource)}, {"tags", item.tags}});
  }
  return json{
      {"items", std::move(items)}, {"listed", result.listed}, {"warnings", result.warnings}};
}

// A task's facts as the sensor's cursor keeps them: absent values as null, CDC metrics beside
// the other facts (the layout cursors written before the watcher moved here also have).
json facts_to_json(const orchestrate::TaskFacts& facts) {
  auto optional = [](const auto& value) { return value ? json(*value) : json(nullptr); };
  json out{{"status", facts.status},
           {"stop_reason", facts.stop_reason},
           {"percent", optional(facts.percent)},
           {"tables_loaded", optional(facts.tables_loaded)},
           {"tables_errored", optional(facts.tables_errored)},
           {"stop_date", optional(facts.stop_date)},
           {"full_load_finish_date", optional(facts.full_load_finish_date)},
           {"recovery_checkpoint", optional(facts.recovery_checkpoint)}};
  for (const auto& [name, value] : facts.cdc) out[name] = value;
  return out;
}

orchestrate::TaskFacts facts_from_json(const json& in) {
  orchestrate::TaskFacts facts;
  if (!in.is_object()) return facts;
  auto text = [&](const char* key) -> std::optional<std::string> {
    if (in.contains(key) && in[key].is_string()) return in[key].get<std::string>();
    return std::nullopt;
  };
  auto number = [&](const char* key) -> std::optional<long long> {
    if (in.contains(key) && in[key].is_number()) return in[key].get<long long>();
    return std::nullopt;
  };
  facts.status = text("status").value_or("");
  facts.stop_reason = text("stop_reason").value_or("");
  facts.percent = number("percent");
  facts.tables_loaded = number("tables_loaded");
  facts.tables_errored = number("tables_errored");
  facts.stop_date = text("stop_date");
  facts.full_load_finish_date = text("full_load_finish_date");
  facts.recovery_checkpoint = text("recovery_checkpoint");
  for (const auto& [name, value] : in.items()) {
    if (name.starts_with("CDC") && value.is_number()) facts.cdc[name] = value.get<double>();
  }
  return facts;
}

orchestrate::MetricTask metric_task_from_json(const json& in) {
  return {in.at("arn").get<std::string>(), in.at("instance_identifier").get<std::string>(),
          in.at("resource_id").get<std::string>()};
}

int period_from_json(const json& in) {
  const int period = in.value("period_seconds", 60);
  if (!orchestrate::valid_metrics_period(period)) {
    throw std::invalid_argument(
        "period_seconds: " + std::to_string(period) +
        " is not a CloudWatch period (1, 5, 10, 20, 30 or a multiple of 60)");
  }
  return period;
}

}  // namespace

std::string watch_tasks(dms::DmsClient& dms, dms::CloudWatchClient& cloudwatch,
                        const std::string& input_text) {
  const json input = json::parse(input_text);
  std::vector<orchestrate::WatchedTask> watched;
  for (const auto& item : input.at("tasks")) {
    watched.push_back({metric_task_from_json(item), item.value("cdc", false)});
  }
  std::map<std::string, orchestrate::TaskFacts> previous;
  if (input.contains("previous") && input["previous"].is_object()) {
    for (const auto& [arn, facts] : input["previous"].items()) {
      previous.emplace(arn, facts_from_json(facts));
    }
  }
  orchestrate::Watcher watcher(dms, cloudwatch);
  const orchestrate::WatchResult result = watcher.look(watched, previous, period_from_json(input));
  json tasks = json::array();
  for (const auto& watch : result.tasks) {
    tasks.push_back(
        {{"arn", watch.arn},
         {"facts", facts_to_json(watch.facts)},
         {"changed", watch.changed},
         {"full_load_finished_at",
          watch.full_load_finished_at ? json(*watch.full_load_finished_at) : json(nullptr)},
         {"cdc_latency_seconds", watch.cdc_latency_seconds}});
  }
  return json{{"tasks", tasks}, {"missing", result.missing}, {"notes", result.notes}}.dump();
}

std::string cdc_metrics(dms::CloudWatchClient& cloudwatch, const std::string& input_text) {
  const json input = json::parse(input_text);
  std::vector<orchestrate::MetricTask> tasks;
  for (const auto& item : input.at("tasks")) tasks.push_back(metric_task_from_json(item));
  std::vector<std::string> notes;
  const auto metrics =
      orchestrate::latest_cdc_metrics(cloudwatch, tasks, period_from_json(input), notes);
  json by_arn = json::object();
  for (const auto& [arn, values] : metrics) by_arn[arn] = values.latest;
  return json{{"metrics", by_arn}, {"notes", notes}}.dump();
}

namespace {

// One judged run of a task or a serverless replication; see the header.
template <class Resource>
std::string run_resource(dms::DmsClient& client, aws::Clock& clock, const std::string& id_or_arn,
                         const std::string& options_text, const nb::object& on_progress,
                         const nb::object& should_stop) {
  const json options = options_text.empty() ? json::object() : json::parse(options_text);
  const orchestrate::RunOptions run_options = parse_run_options(options);
  const std::string mode = options.value("mode", std::string("run"));
  if (mode != "run" && mode != "wait" && mode != "stop") {
    throw std::invalid_argument("mode: '" + mode + "' is not one of run, wait, stop");
  }
  const bool with_tables = options.value("table_statistics", false);

  // A Python callback that raises ends the wait; its exception is raised again once the GIL is
  // back, so nothing is swallowed.
  std::optional<nb::python_error> callback_error;
  bool stop_requested = false;
  orchestrate::ProgressCallback progress_callback;
  if (!on_progress.is_none()) {
    progress_callback = [&](const orchestrate::Progress& progress) {
      nb::gil_scoped_acquire acquire;
      if (callback_error) return;
      try {
        on_progress(nb::module_::import_("json").attr("loads")(progress_to_json(progress).dump()));
      } catch (nb::python_error& e) {
        callback_error.emplace(std::move(e));
      }
    };
  }
  orchestrate::CancelCheck cancel_check = [&]() {
    if (stop_requested) return true;
    nb::gil_scoped_acquire acquire;
    if (callback_error) return stop_requested = true;
    if (should_stop.is_none()) return false;
    try {
      stop_requested = nb::cast<bool>(should_stop());
    } catch (nb::python_error& e) {
      callback_error.emplace(std::move(e));
      stop_requested = true;
    }
    return stop_requested;
  };

  json out;
  {
    nb::gil_scoped_release release;
    orchestrate::Runner<Resource> runner(client, clock);
    typename orchestrate::Runner<Resource>::Result result;
    if (mode == "run") {
      result = runner.run(id_or_arn, run_options, progress_callback, cancel_check);
    } else if (mode == "wait") {
      result = runner.wait(id_or_arn, run_options, progress_callback, cancel_check);
    } else {
      result = runner.stop(id_or_arn, options.value("wait", true), run_options, progress_callback,
                           cancel_check);
    }
    if constexpr (std::is_same_v<Resource, dms::ReplicationTask>) {
      out = result_to_json(result, "task");
      if (with_tables && result.resource.replication_task_arn) {
        add_table_statistics(client, *result.resource.replication_task_arn, out);
      }
    } else {
      out = result_to_json(result, "replication");
    }
  }
  if (callback_error) throw *callback_error;
  return out.dump();
}

}  // namespace

std::string run_task(dms::DmsClient& client, aws::Clock& clock, const std::string& task,
                     const std::string& options, nb::object on_progress, nb::object should_stop) {
  return run_resource<dms::ReplicationTask>(client, clock, task, options, on_progress, should_stop);
}

std::string run_replication(dms::DmsClient& client, aws::Clock& clock, const std::string& config,
                            const std::string& options, nb::object on_progress,
                            nb::object should_stop) {
  return run_resource<dms::Replication>(client, clock, config, options, on_progress, should_stop);
}

std::string discover(dms::DmsClient& client, const std::string& kind,
                     const std::string& options_text) {
  const json options = options_text.empty() ? json::object() : json::parse(options_text);
  auto optional_string = [&](const char* key) -> std::optional<std::string> {
    if (options.contains(key) && options[key].is_string()) return options[key].get<std::string>();
    return std::nullopt;
  };
  const auto tag_text = optional_string("tags");
  const orchestrate::ResourceFilter filter(optional_string("name_pattern"),
                                           optional_string("exclude_pattern"),
                                           tag_text ? orchestrate::parse_tag_filter(*tag_text)
                                                    : std::vector<orchestrate::TagRequirement>{});
  orchestrate::DiscoveryOptions discovery_options;
  discovery_options.read_tags = options.value("read_tags", false);
  discovery_options.with_settings = options.value("with_settings", false);
  discovery_options.keep_unselected = options.value("keep_unselected", false);
  orchestrate::Discovery discovery(client);
  if (kind == "tasks") return discovered_to_json(discovery.tasks(filter, discovery_options)).dump();
  if (kind == "endpoints") {
    return discovered_to_json(discovery.endpoints(filter, discovery_options)).dump();
  }
  if (kind == "instances") {
    return discovered_to_json(discovery.instances(filter, discovery_options)).dump();
  }
  if (kind == "replication-configs") {
    return discovered_to_json(discovery.replication_configs(filter, discovery_options)).dump();
  }
  throw std::invalid_argument("kind: '" + kind +
                              "' is not one of tasks, endpoints, instances, replication-configs");
}

namespace {

std::vector<mapping::QualifiedName> table_names(const json& list, const char* field) {
  std::vector<mapping::QualifiedName> names;
  if (!list.is_array()) throw std::invalid_argument(std::string(field) + " must be a list");
  for (const auto& item : list) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_string() || !item[1].is_string()) {
      throw std::invalid_argument(std::string(field) + " items must be [schema, table]");
    }
    names.push_back({item[0].get<std::string>(), item[1].get<std::string>()});
  }
  return names;
}

json name_to_json(const mapping::QualifiedName& name) {
  return json::array({name.schema, name.table});
}

}  // namespace

std::string resolve_tables(const std::string& table_mappings, const std::string& known_sources) {
  mapping::TableMapping rules;
  try {
    rules = mapping::TableMapping::parse(table_mappings);
  } catch (const mapping::MappingError& error) {
    throw std::invalid_argument(error.what());
  }
  const auto resolution =
      mapping::resolve_tables(rules, table_names(json::parse(known_sources), "known_sources"));
  json tables = json::array();
  for (const auto& table : resolution.tables) {
    tables.push_back(
        {{"source", name_to_json(table.source)}, {"target", name_to_json(table.target)}});
  }
  return json{{"tables", std::move(tables)},
              {"unresolved_rule_ids", resolution.unresolved_rule_ids}}
      .dump();
}

std::string reload_tables(dms::DmsClient& client, aws::Clock& clock, const std::string& task,
                          const std::string& options_text, nb::object should_stop) {
  const json options = json::parse(options_text);
  orchestrate::ReloadOptions reload;
  reload.tables = table_names(options.value("tables", json::array()), "reload_tables");
  reload.reload_option = options.value("reload_option", reload.reload_option);
  reload.timeout = seconds_option(options, "timeout_seconds", reload.timeout);
  reload.poll_interval = seconds_option(options, "poll_interval_seconds", reload.poll_interval);
  const auto cancelled = [&should_stop]() {
    if (!should_stop.is_valid() || should_stop.is_none()) return false;
    nb::gil_scoped_acquire acquire;
    return nb::cast<bool>(should_stop());
  };
  orchestrate::ReloadResult result;
  {
    nb::gil_scoped_release release;
    result = orchestrate::reload_tables(client, clock, task, reload, cancelled);
  }
  json tables = json::array();
  for (const auto& table : result.tables) {
    json value;
    to_json(value, table);
    tables.push_back(std::move(value));
  }
  return json{{"succeeded", result.succeeded},
              {"message", result.message},
              {"table_statistics", std::move(tables)}}
      .dump();
}

}  // namespace dagster_dms::python
