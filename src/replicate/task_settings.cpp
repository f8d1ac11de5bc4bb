#include "replicate/task_settings.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "replicate/task_settings_defaults.hpp"

namespace dagster_dms::replicate {

namespace {

// One section of a settings document merged over the defaults; the default section where the
// document gives something other than an object.
class Section {
 public:
  Section(const nlohmann::json& settings, const char* name)
      : name_(name),
        section_(settings.contains(name) && settings[name].is_object()
                     ? settings[name]
                     : default_task_settings()[name]) {}

  // The member as given, or its default when absent.
  [[nodiscard]] const nlohmann::json& member(const char* name) const {
    const auto found = section_.find(name);
    if (found != section_.end() && !found->is_null()) return *found;
    return default_task_settings()[name_][name];
  }

  // An integer member within [minimum, maximum]; a wrong type or range names the member.
  [[nodiscard]] long long integer(const char* name, long long minimum, long long maximum) const {
    const auto& value = member(name);
    if (!value.is_number_integer() || value.get<long long>() < minimum ||
        value.get<long long>() > maximum) {
      throw std::invalid_argument(
          fmt::format("{}.{} must be an integer between {} and {}", name_, name, minimum, maximum));
    }
    return value.get<long long>();
  }

  // A true/false member; a wrong type names the member.
  [[nodiscard]] bool flag(const char* name) const {
    const auto& value = member(name);
    if (!value.is_boolean()) {
      throw std::invalid_argument(fmt::format("{}.{} must be true or false", name_, name));
    }
    return value.get<bool>();
  }

  // A string member; a member of another type counts as its default.
  [[nodiscard]] std::string text(const char* name) const {
    const auto& value = member(name);
    return value.is_string() ? value.get<std::string>()
                             : default_task_settings()[name_][name].get<std::string>();
  }

 private:
  const char* name_;
  const nlohmann::json& section_;
};

TablePrepMode prep_mode(const std::string& mode) {
  if (mode == "DROP_AND_CREATE") return TablePrepMode::kDropAndCreate;
  if (mode == "TRUNCATE_BEFORE_LOAD") return TablePrepMode::kTruncateBeforeLoad;
  if (mode == "DO_NOTHING") return TablePrepMode::kDoNothing;
  throw std::invalid_argument(
      fmt::format("Invalid TargetTablePrepMode '{}': expected DO_NOTHING, DROP_AND_CREATE or "
                  "TRUNCATE_BEFORE_LOAD",
                  mode));
}

// ErrorBehavior's Recoverable* members.
RecoverableErrorPolicy recoverable_policy(const Section& errors) {
  constexpr long long kMax = 1000000000;
  RecoverableErrorPolicy policy;
  policy.count = static_cast<int>(errors.integer("RecoverableErrorCount", -1, kMax));
  policy.interval = std::chrono::seconds(errors.integer("RecoverableErrorInterval", 1, kMax));
  policy.throttling = errors.flag("RecoverableErrorThrottling");
  policy.throttling_max =
      std::chrono::seconds(errors.integer("RecoverableErrorThrottlingMax", 1, kMax));
  policy.stop_after_throttling_max = errors.flag("RecoverableErrorStopRetryAfterThrottlingMax");
  return policy;
}

// TargetMetadata.BatchApplyEnabled and the ChangeProcessingTuning members CDC applies with.
ChangeProcessingTuning change_tuning(const Section& metadata, const Section& tuning) {
  constexpr long long kMaxSeconds = 86400;
  constexpr long long kMaxMegabytes = 1024 * 1024;
  constexpr long long kMaxCount = 1000000000;
  ChangeProcessingTuning out;
  out.batch_apply = metadata.flag("BatchApplyEnabled");
  out.batch_timeout_min =
      std::chrono::seconds(tuning.integer("BatchApplyTimeoutMin", 0, kMaxSeconds));
  out.batch_timeout_max =
      std::chrono::seconds(tuning.integer("BatchApplyTimeoutMax", 1, kMaxSeconds));
  if (out.batch_timeout_min > out.batch_timeout_max) {
    throw std::invalid_argument(
        "ChangeProcessingTuning.BatchApplyTimeoutMin must not be greater than "
        "ChangeProcessingTuning.BatchApplyTimeoutMax");
  }
  out.batch_memory_limit_bytes =
      static_cast<std::uint64_t>(tuning.integer("BatchApplyMemoryLimit", 1, kMaxMegabytes)) * 1024 *
      1024;
  out.batch_split_size = static_cast<std::uint64_t>(tuning.integer("BatchSplitSize", 0, kMaxCount));
  out.min_transaction_size =
      static_cast<std::uint64_t>(tuning.integer("MinTransactionSize", 1, kMaxCount));
  out.commit_timeout = std::chrono::seconds(tuning.integer("CommitTimeout", 1, kMaxSeconds));
  return out;
}

}  // namespace

FullLoadSettings parse_full_load_settings(std::string_view text) {
  nlohmann::json given = nlohmann::json::object();
  if (text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    try {
      given = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error&) {
      throw std::invalid_argument("Invalid task settings JSON");
    }
    if (!given.is_object()) throw std::invalid_argument("Task settings must be a JSON object");
  }
  const auto settings = with_default_task_settings(given);
  FullLoadSettings out;

  const Section full_load(settings, "FullLoadSettings");
  out.prep_mode = prep_mode(full_load.member("TargetTablePrepMode").get<std::string>());
  if (full_load.member("StopTaskCachedChangesApplied").get<bool>()) {
    out.stop_after_load = StopAfterLoad::kCachedChangesApplied;
  } else if (full_load.member("StopTaskCachedChangesNotApplied").get<bool>()) {
    out.stop_after_load = StopAfterLoad::kCachedChangesNotApplied;
  } else {
    out.stop_after_load = StopAfterLoad::kNo;
  }
  out.max_subtasks = full_load.member("MaxFullLoadSubTasks").get<int>();
  if (out.max_subtasks < 1 || out.max_subtasks > 49) {
    throw std::invalid_argument("MaxFullLoadSubTasks must be between 1 and 49");
  }

  const Section metadata(settings, "TargetMetadata");
  const auto size = metadata.member("LoadMaxFileSize").get<long long>();
  if (size < 0 || size > 100000) {
    throw std::invalid_argument("LoadMaxFileSize must be between 0 and 100000 (KB)");
  }
  out.load_max_file_kb = static_cast<std::uint64_t>(size);
  out.target_schema = metadata.text("TargetSchema");
  out.change_tuning = change_tuning(metadata, Section(settings, "ChangeProcessingTuning"));

  out.control_schema = Section(settings, "ControlTablesSettings").text("ControlSchema");

  const Section errors(settings, "ErrorBehavior");
  out.fail_on_no_tables = errors.member("FailOnNoTablesCaptured").get<bool>();
  out.stop_task_on_table_error =
      errors.member("TableErrorPolicy").get<std::string>() == "STOP_TASK";
  out.table_error_escalation_count = errors.member("TableErrorEscalationCount").get<int>();
  out.recoverable = recoverable_policy(errors);

  const Section ddl(settings, "ChangeProcessingDdlHandlingPolicy");
  out.handle_source_table_truncated = ddl.flag("HandleSourceTableTruncated");
  out.handle_source_table_altered = ddl.flag("HandleSourceTableAltered");
  return out;
}

}  // namespace dagster_dms::replicate
