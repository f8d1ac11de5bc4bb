#include "server/dms_api/task_settings.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "replicate/task_settings_defaults.hpp"
#include "replicate/validation_settings.hpp"
#include "server/front/api_error.hpp"
#include "server/front/json_nesting.hpp"

namespace dagster_dms::server {

namespace {

// What a member must be, from the type of its default; empty when any value is fine.
std::string_view required_type(const nlohmann::json& default_value, const nlohmann::json& given) {
  if (given.is_null()) return {};  // the default applies
  switch (default_value.type()) {
    case nlohmann::json::value_t::object:
      return given.is_object() ? "" : "an object";
    case nlohmann::json::value_t::array:
      return given.is_array() ? "" : "a list";
    case nlohmann::json::value_t::boolean:
      return given.is_boolean() ? "" : "true or false";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return given.is_number_integer() ? "" : "an integer";
    case nlohmann::json::value_t::number_float:
      return given.is_number() ? "" : "a number";
    case nlohmann::json::value_t::string:
      return given.is_string() ? "" : "a string";
    default:  // null: DMS defines no default, so no type either
      return {};
  }
}

// Walks the members the defaults define. Members DMS does not define are kept as given.
void check_types(const nlohmann::json& defaults, const nlohmann::json& given,
                 std::string_view member, const std::string& path) {
  for (auto it = given.begin(); it != given.end(); ++it) {
    const auto known = defaults.find(it.key());
    if (known == defaults.end()) continue;
    const std::string field = path.empty() ? it.key() : path + "." + it.key();
    const auto needed = required_type(*known, *it);
    if (!needed.empty()) {
      throw invalid_parameter(fmt::format("Invalid {}: {} must be {}, not {}.", member, field,
                                          needed, it->type_name()));
    }
    if (known->is_object() && it->is_object()) check_types(*known, *it, member, field);
  }
}

nlohmann::json parse_checked(std::string_view text, std::string_view member) {
  if (exceeds_nesting_limit(text)) {
    throw invalid_parameter(
        fmt::format("Invalid {}: the document nests deeper than the limit of "
                    "{} levels.",
                    member, kMaxNestingDepth));
  }
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw invalid_parameter(
        fmt::format("Invalid {}: the value must be a JSON object, such as {{}}.", member));
  }
  check_types(replicate::default_task_settings(), parsed, member, "");
  return parsed;
}

}  // namespace

void check_task_settings(std::string_view text, std::string_view member) {
  parse_checked(text, member);
}

std::string merge_task_settings_change(const std::string& stored, std::string_view change,
                                       std::string_view member) {
  const auto parsed_change = parse_checked(change, member);
  auto merged = nlohmann::json::parse(stored.empty() ? std::string("{}") : stored);
  merged.merge_patch(parsed_change);
  return merged.dump();
}

std::string complete_task_settings(const std::optional<std::string>& given,
                                   const std::string& instance_id,
                                   const std::string& task_resource_id, bool on_create) {
  nlohmann::json parsed = nlohmann::json::object();
  if (given && !given->empty()) {
    parsed = parse_checked(*given, "task settings JSON");
    if (on_create && parsed.contains("Logging") && parsed["Logging"].is_object()) {
      const auto& logging = parsed["Logging"];
      const auto set = [&](const char* name) {
        return logging.contains(name) && !logging[name].is_null();
      };
      if (set("CloudWatchLogGroup") || set("CloudWatchLogStream")) {
        throw invalid_parameter(
            "Task Settings CloudWatchLogGroup or CloudWatchLogStream cannot be set on create.");
      }
    }
  }
  auto settings = replicate::with_default_task_settings(parsed);
  // DMS names the task's CloudWatch log only while logging is on; otherwise both stay null.
  auto& logging = settings["Logging"];
  if (logging.value("EnableLogging", false)) {
    logging["CloudWatchLogGroup"] = "dms-tasks-" + instance_id;
    logging["CloudWatchLogStream"] = "dms-task-" + task_resource_id;
  } else {
    logging["CloudWatchLogGroup"] = nullptr;
    logging["CloudWatchLogStream"] = nullptr;
  }
  return settings.dump();
}

void check_validation_settings(const std::string& settings, std::string_view migration_type,
                               const std::optional<std::string>& stored) {
  const auto problem = replicate::validation_settings_problem(settings, migration_type);
  if (!problem.empty()) throw invalid_parameter(problem);
  if (stored && replicate::parse_validation_settings(*stored).validation_only !=
                    replicate::parse_validation_settings(settings).validation_only) {
    throw invalid_parameter(
        "ValidationSettings.ValidationOnly cannot be changed after the task is created.");
  }
}

void validate_table_mappings(const std::string& mappings) {
  if (exceeds_nesting_limit(mappings)) {
    throw invalid_parameter(
        fmt::format("Invalid table mappings JSON: the document nests deeper than the limit of {} "
                    "levels.",
                    kMaxNestingDepth));
  }
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(mappings);
  } catch (const nlohmann::json::exception&) {
    throw invalid_parameter("Invalid table mappings JSON: the document does not parse.");
  }
  if (!parsed.is_object() || !parsed.contains("rules") || !parsed["rules"].is_array()) {
    throw invalid_parameter("Error in mapping rules. The mappings need a \"rules\" list.");
  }
  bool has_selection = false;
  for (const auto& rule : parsed["rules"]) {
    if (!rule.is_object())
      throw invalid_parameter("Error in mapping rules. A rule is not an object.");
    const auto type = rule.find("rule-type");
    if (type == rule.end()) continue;
    if (!type->is_string()) {
      throw invalid_parameter("Error in mapping rules. \"rule-type\" must be a string.");
    }
    if (*type == "selection") has_selection = true;
  }
  if (!has_selection) {
    throw invalid_parameter("Error in mapping rules. At least one selection rule is required.");
  }
}

}  // namespace dagster_dms::server
