#include "server/task_settings.hpp"

#include <nlohmann/json.hpp>

#include "server/api_error.hpp"

namespace dagster_dms::server {

namespace {

// What DMS answers for a task created without settings (DMS-BEHAVIOUR.md section 1.1).
const nlohmann::json& service_defaults() {
  static const nlohmann::json defaults = [] {
    nlohmann::json components = nlohmann::json::array();
    for (const char* id :
         {"TRANSFORMATION", "SOURCE_UNLOAD", "IO", "TARGET_LOAD", "PERFORMANCE", "SOURCE_CAPTURE",
          "SORTER", "REST_SERVER", "VALIDATOR_EXT", "TARGET_APPLY", "TASK_MANAGER",
          "TABLES_MANAGER", "METADATA_MANAGER", "FILE_FACTORY", "COMMON", "ADDONS",
          "DATA_STRUCTURE", "COMMUNICATION", "FILE_TRANSFER"}) {
      components.push_back({{"Id", id}, {"Severity", "LOGGER_SEVERITY_DEFAULT"}});
    }
    return nlohmann::json{
        {"TargetMetadata",
         {{"TargetSchema", ""},
          {"SupportLobs", true},
          {"FullLobMode", false},
          {"LobChunkSize", 64},
          {"LimitedSizeLobMode", true},
          {"LobMaxSize", 32},
          {"InlineLobMaxSize", 0},
          {"LoadMaxFileSize", 0},
          {"ParallelLoadThreads", 0},
          {"ParallelLoadBufferSize", 0},
          {"ParallelLoadQueuesPerThread", 0},
          {"ParallelApplyThreads", 0},
          {"ParallelApplyBufferSize", 0},
          {"ParallelApplyQueuesPerThread", 0},
          {"BatchApplyEnabled", false},
          {"TaskRecoveryTableEnabled", false}}},
        {"FullLoadSettings",
         {{"TargetTablePrepMode", "DROP_AND_CREATE"},
          {"CreatePkAfterFullLoad", false},
          {"StopTaskCachedChangesApplied", false},
          {"StopTaskCachedChangesNotApplied", false},
          {"MaxFullLoadSubTasks", 8},
          {"TransactionConsistencyTimeout", 600},
          {"CommitRate", 10000}}},
        {"TTSettings",
         {{"EnableTT", false}, {"TTS3Settings", nullptr}, {"TTRecordSettings", nullptr}}},
        {"Logging",
         {{"EnableLogging", false},
          {"LogComponents", components},
          {"LogConfiguration", {{"TraceOnErrorMb", 10}, {"EnableTraceOnError", false}}},
          {"CloudWatchLogGroup", nullptr},
          {"CloudWatchLogStream", nullptr}}},
        {"ControlTablesSettings",
         {{"ControlSchema", ""},
          {"HistoryTimeslotInMinutes", 5},
          {"historyTimeslotInMinutes", 5},
          {"HistoryTableEnabled", false},
          {"SuspendedTablesTableEnabled", false},
          {"StatusTableEnabled", false},
          {"FullLoadExceptionTableEnabled", false}}},
        {"StreamBufferSettings",
         {{"StreamBufferCount", 3}, {"StreamBufferSizeInMB", 8}, {"CtrlStreamBufferSizeInMB", 5}}},
        {"ChangeProcessingDdlHandlingPolicy",
         {{"HandleSourceTableDropped", true},
          {"HandleSourceTableTruncated", true},
          {"HandleSourceTableAltered", true}}},
        {"ErrorBehavior",
         {{"DataErrorPolicy", "LOG_ERROR"},
          {"DataTruncationErrorPolicy", "LOG_ERROR"},
          {"DataErrorEscalationPolicy", "SUSPEND_TABLE"},
          {"DataErrorEscalationCount", 0},
          {"EventErrorPolicy", "IGNORE"},
          {"TableErrorPolicy", "SUSPEND_TABLE"},
          {"TableErrorEscalationPolicy", "STOP_TASK"},
          {"TableErrorEscalationCount", 0},
          {"RecoverableErrorCount", -1},
          {"RecoverableErrorInterval", 5},
          {"RecoverableErrorThrottling", true},
          {"RecoverableErrorThrottlingMax", 1800},
          {"RecoverableErrorStopRetryAfterThrottlingMax", true},
          {"ApplyErrorDeletePolicy", "IGNORE_RECORD"},
          {"ApplyErrorInsertPolicy", "LOG_ERROR"},
          {"ApplyErrorUpdatePolicy", "LOG_ERROR"},
          {"ApplyErrorEscalationPolicy", "LOG_ERROR"},
          {"ApplyErrorEscalationCount", 0},
          {"ApplyErrorFailOnTruncationDdl", false},
          {"FullLoadIgnoreConflicts", true},
          {"FailOnTransactionConsistencyBreached", false},
          {"FailOnNoTablesCaptured", true}}},
        {"ChangeProcessingTuning",
         {{"BatchApplyPreserveTransaction", true},
          {"BatchApplyTimeoutMin", 1},
          {"BatchApplyTimeoutMax", 30},
          {"BatchApplyMemoryLimit", 500},
          {"BatchSplitSize", 0},
          {"MinTransactionSize", 1000},
          {"CommitTimeout", 1},
          {"MemoryLimitTotal", 1024},
          {"MemoryKeepTime", 60},
          {"StatementCacheSize", 50}}},
        {"ValidationSettings",
         {{"EnableValidation", false},
          {"ValidationMode", "ROW_LEVEL"},
          {"ThreadCount", 5},
          {"PartitionSize", 10000},
          {"FailureMaxCount", 10000},
          {"RecordFailureDelayInMinutes", 5},
          {"RecordSuspendDelayInMinutes", 30},
          {"MaxKeyColumnSize", 8096},
          {"TableFailureMaxCount", 1000},
          {"ValidationOnly", false},
          {"HandleCollationDiff", false},
          {"RecordFailureDelayLimitInMinutes", 0},
          {"SkipLobColumns", false},
          {"ValidationPartialLobSize", 0},
          {"ValidationQueryCdcDelaySeconds", 0}}},
        {"PostProcessingRules", nullptr},
        {"CharacterSetSettings", nullptr},
        {"LoopbackPreventionSettings", nullptr},
        {"BeforeImageSettings", nullptr},
        {"FailTaskWhenCleanTaskResourceFailed", false}};
  }();
  return defaults;
}

// Objects merge member by member; anything else the client sent replaces the default.
void merge_into(nlohmann::json& base, const nlohmann::json& given) {
  for (auto it = given.begin(); it != given.end(); ++it) {
    auto existing = base.find(it.key());
    if (existing != base.end() && existing->is_object() && it->is_object()) {
      merge_into(*existing, *it);
    } else {
      base[it.key()] = *it;
    }
  }
}

}  // namespace

std::string complete_task_settings(const std::optional<std::string>& given,
                                   const std::string& instance_id,
                                   const std::string& task_resource_id, bool on_create) {
  nlohmann::json settings = service_defaults();
  if (given && !given->empty()) {
    nlohmann::json parsed;
    try {
      parsed = nlohmann::json::parse(*given);
    } catch (const nlohmann::json::exception&) {
      throw invalid_parameter("Invalid task settings JSON");
    }
    if (!parsed.is_object()) throw invalid_parameter("Invalid task settings JSON");
    // A section of the defaults (Logging, FullLoadSettings...) given as a number or a string
    // would replace the section, and everything that reads it later expects an object.
    for (const auto& [name, value] : parsed.items()) {
      const auto section = settings.find(name);
      if (section != settings.end() && section->is_object() && !value.is_object() &&
          !value.is_null()) {
        throw invalid_parameter("Invalid task settings JSON: " + name + " must be an object");
      }
    }
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
    merge_into(settings, parsed);
  }
  // DMS names the task's CloudWatch log only while logging is on; otherwise both stay null.
  auto& logging = settings["Logging"];
  const auto enabled = logging.find("EnableLogging");
  if (enabled != logging.end() && enabled->is_boolean() && enabled->get<bool>()) {
    logging["CloudWatchLogGroup"] = "dms-tasks-" + instance_id;
    logging["CloudWatchLogStream"] = "dms-task-" + task_resource_id;
  } else {
    logging["CloudWatchLogGroup"] = nullptr;
    logging["CloudWatchLogStream"] = nullptr;
  }
  return settings.dump();
}

void validate_table_mappings(const std::string& mappings) {
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
