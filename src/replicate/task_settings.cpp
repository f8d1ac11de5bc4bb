#include "replicate/task_settings.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace dagster_dms::replicate {

namespace {

// ErrorBehavior's Recoverable* members; a wrong type or range names the member.
RecoverableErrorPolicy parse_recoverable_policy(const nlohmann::json& errors) {
  const auto integer = [&](const char* name, long long fallback, long long minimum) {
    const auto found = errors.find(name);
    if (found == errors.end() || found->is_null()) return fallback;
    if (!found->is_number_integer() || found->get<long long>() < minimum ||
        found->get<long long>() > 1000000000) {
      throw std::invalid_argument(fmt::format(
          "ErrorBehavior.{} must be an integer between {} and 1000000000", name, minimum));
    }
    return found->get<long long>();
  };
  const auto flag = [&](const char* name, bool fallback) {
    const auto found = errors.find(name);
    if (found == errors.end() || found->is_null()) return fallback;
    if (!found->is_boolean()) {
      throw std::invalid_argument(fmt::format("ErrorBehavior.{} must be true or false", name));
    }
    return found->get<bool>();
  };
  RecoverableErrorPolicy policy;
  policy.count = static_cast<int>(integer("RecoverableErrorCount", policy.count, -1));
  policy.interval =
      std::chrono::seconds(integer("RecoverableErrorInterval", policy.interval.count(), 1));
  policy.throttling = flag("RecoverableErrorThrottling", policy.throttling);
  policy.throttling_max = std::chrono::seconds(
      integer("RecoverableErrorThrottlingMax", policy.throttling_max.count(), 1));
  policy.stop_after_throttling_max =
      flag("RecoverableErrorStopRetryAfterThrottlingMax", policy.stop_after_throttling_max);
  return policy;
}

}  // namespace

FullLoadSettings parse_full_load_settings(std::string_view text) {
  FullLoadSettings settings;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return settings;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    throw std::invalid_argument("Invalid task settings JSON");
  }
  if (!doc.is_object()) throw std::invalid_argument("Task settings must be a JSON object");
  const auto section = [&](const char* name) -> const nlohmann::json* {
    const auto found = doc.find(name);
    return found != doc.end() && found->is_object() ? &*found : nullptr;
  };
  if (const auto* full_load = section("FullLoadSettings")) {
    const std::string mode =
        full_load->value("TargetTablePrepMode", std::string("DROP_AND_CREATE"));
    if (mode == "DROP_AND_CREATE") {
      settings.prep_mode = TablePrepMode::kDropAndCreate;
    } else if (mode == "TRUNCATE_BEFORE_LOAD") {
      settings.prep_mode = TablePrepMode::kTruncateBeforeLoad;
    } else if (mode == "DO_NOTHING") {
      settings.prep_mode = TablePrepMode::kDoNothing;
    } else {
      throw std::invalid_argument(
          fmt::format("Invalid TargetTablePrepMode '{}': expected DO_NOTHING, DROP_AND_CREATE or "
                      "TRUNCATE_BEFORE_LOAD",
                      mode));
    }
    if (full_load->value("StopTaskCachedChangesApplied", false)) {
      settings.stop_after_load = StopAfterLoad::kCachedChangesApplied;
    } else if (full_load->value("StopTaskCachedChangesNotApplied", false)) {
      settings.stop_after_load = StopAfterLoad::kCachedChangesNotApplied;
    }
    settings.max_subtasks = full_load->value("MaxFullLoadSubTasks", 8);
    if (settings.max_subtasks < 1 || settings.max_subtasks > 49) {
      throw std::invalid_argument("MaxFullLoadSubTasks must be between 1 and 49");
    }
  }
  if (const auto* metadata = section("TargetMetadata")) {
    const auto size = metadata->value("LoadMaxFileSize", 0LL);
    if (size < 0 || size > 100000) {
      throw std::invalid_argument("LoadMaxFileSize must be between 0 and 100000 (KB)");
    }
    settings.load_max_file_kb = static_cast<std::uint64_t>(size);
    const auto schema = metadata->find("TargetSchema");
    if (schema != metadata->end() && schema->is_string()) settings.target_schema = *schema;
  }
  if (const auto* control = section("ControlTablesSettings")) {
    const auto schema = control->find("ControlSchema");
    if (schema != control->end() && schema->is_string()) settings.control_schema = *schema;
  }
  if (const auto* errors = section("ErrorBehavior")) {
    settings.fail_on_no_tables = errors->value("FailOnNoTablesCaptured", true);
    settings.stop_task_on_table_error =
        errors->value("TableErrorPolicy", std::string("SUSPEND_TABLE")) == "STOP_TASK";
    settings.table_error_escalation_count = errors->value("TableErrorEscalationCount", 0);
    settings.recoverable = parse_recoverable_policy(*errors);
  }
  if (const auto* ddl = section("ChangeProcessingDdlHandlingPolicy")) {
    const auto flag = [&](const char* name) {
      const auto found = ddl->find(name);
      if (found == ddl->end() || found->is_null()) return true;
      if (!found->is_boolean()) {
        throw std::invalid_argument(
            fmt::format("ChangeProcessingDdlHandlingPolicy.{} must be true or false", name));
      }
      return found->get<bool>();
    };
    settings.handle_source_table_truncated = flag("HandleSourceTableTruncated");
    settings.handle_source_table_altered = flag("HandleSourceTableAltered");
  }
  return settings;
}

}  // namespace dagster_dms::replicate
