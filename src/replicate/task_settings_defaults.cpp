#include "replicate/task_settings_defaults.hpp"

namespace dagster_dms::replicate {

const nlohmann::json& default_task_settings() {
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

namespace {

// Objects merge member by member; a null keeps the default (as a null in a Modify's merge patch
// does); anything else given replaces the default.
void merge_into(nlohmann::json& base, const nlohmann::json& given) {
  for (auto it = given.begin(); it != given.end(); ++it) {
    auto existing = base.find(it.key());
    if (existing != base.end() && existing->is_object() && it->is_object()) {
      merge_into(*existing, *it);
    } else if (existing == base.end() || !it->is_null()) {
      base[it.key()] = *it;
    }
  }
}

}  // namespace

nlohmann::json with_default_task_settings(const nlohmann::json& given) {
  nlohmann::json settings = default_task_settings();
  if (given.is_object()) merge_into(settings, given);
  return settings;
}

}  // namespace dagster_dms::replicate
