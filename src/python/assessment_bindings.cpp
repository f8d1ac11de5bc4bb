#include "python/assessment_bindings.hpp"

#include <nanobind/stl/string.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "orchestrate/assessment_run.hpp"

namespace nb = nanobind;

namespace dagster_dms::python {

namespace {

using json = nlohmann::json;

std::chrono::milliseconds seconds_of(const json& options, const char* key,
                                     std::chrono::milliseconds fallback) {
  if (!options.contains(key) || options[key].is_null()) return fallback;
  if (!options[key].is_number() || options[key].get<double>() <= 0) {
    throw std::invalid_argument(std::string(key) + " must be a number of seconds > 0");
  }
  return std::chrono::milliseconds(static_cast<long long>(options[key].get<double>() * 1000.0));
}

bool wants_stop(const nb::object& should_stop) {
  if (!should_stop.is_valid() || should_stop.is_none()) return false;
  nb::gil_scoped_acquire acquire;
  return nb::cast<bool>(should_stop());
}

}  // namespace

std::string run_assessment(dms::DmsClient& client, aws::Clock& clock, const std::string& task,
                           const std::string& options_text, nb::object on_progress,
                           nb::object should_stop) {
  const json options = json::parse(options_text);
  orchestrate::AssessmentRunOptions run;
  run.run_name = options.value("run_name", "");
  if (run.run_name.empty()) run.run_name = orchestrate::fresh_assessment_run_name("dagster", clock);
  run.service_access_role_arn = options.value("service_access_role_arn", "");
  run.result_bucket = options.value("result_bucket", "");
  run.result_folder = options.value("result_folder", "");
  run.include_only = options.value("include_only", std::vector<std::string>{});
  run.exclude = options.value("exclude", std::vector<std::string>{});
  run.timeout = seconds_of(options, "timeout_seconds", run.timeout);
  run.poll_interval = seconds_of(options, "poll_interval_seconds", run.poll_interval);
  const auto progress = [&on_progress](const dms::ReplicationTaskAssessmentRun& state) {
    if (!on_progress.is_valid() || on_progress.is_none()) return;
    json value;
    to_json(value, state);
    nb::gil_scoped_acquire acquire;
    on_progress(value.dump());
  };
  orchestrate::AssessmentRunResult result;
  {
    nb::gil_scoped_release release;
    result = orchestrate::run_assessment(
        client, clock, task, run, [&should_stop] { return wants_stop(should_stop); }, progress);
  }
  json individual = json::array();
  for (const auto& item : result.individual) {
    json value;
    to_json(value, item);
    individual.push_back(std::move(value));
  }
  json state;
  to_json(state, result.run);
  return json{{"finished", result.finished},
              {"passed", result.passed},
              {"message", result.message},
              {"run", std::move(state)},
              {"individual", std::move(individual)}}
      .dump();
}

}  // namespace dagster_dms::python
