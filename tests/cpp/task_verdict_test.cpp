#include "orchestrate/task_verdict.hpp"

#include <gtest/gtest.h>

namespace dagster_dms::orchestrate {
namespace {

TaskSnapshot snapshot(const std::string& status, const std::string& type) {
  TaskSnapshot s;
  s.status = status;
  s.migration_type = type;
  return s;
}

TaskSnapshot stopped(const std::string& reason, const std::string& type = "full-load") {
  TaskSnapshot s = snapshot("stopped", type);
  s.stop_reason = reason;
  s.full_load_progress_percent = 100;
  s.tables_loading = 0;
  s.tables_queued = 0;
  s.tables_errored = 0;
  s.full_load_finished = true;
  return s;
}

TEST(Judge, FinishedFullLoadIsSuccessEvenIfRunningWasNeverSeen) {
  EXPECT_EQ(judge(stopped("Stop Reason FULL_LOAD_ONLY_FINISHED")), TaskPhase::kSucceeded);
}

TEST(Judge, ErrorStopsAreFailures) {
  EXPECT_EQ(judge(stopped("Stop Reason FATAL_ERROR")), TaskPhase::kFailed);
  EXPECT_EQ(judge(stopped("Stop Reason RECOVERABLE_ERROR")), TaskPhase::kFailed);
  EXPECT_EQ(judge(stopped("Stop Reason STOPPED_DUE_TO_LOW_MEMORY")), TaskPhase::kFailed);
  EXPECT_EQ(judge(snapshot("failed", "full-load")), TaskPhase::kFailed);
}

TEST(Judge, ConfiguredStopsAreSuccesses) {
  for (const char* reason :
       {"Stop Reason STOPPED_AFTER_FULL_LOAD", "Stop Reason STOPPED_AFTER_CACHED_EVENTS",
        "Stop Reason STOPPED_AT_SERVER_TIME", "Stop Reason STOPPED_AT_COMMIT_TIME"}) {
    EXPECT_EQ(judge(stopped(reason, "full-load-and-cdc")), TaskPhase::kSucceeded) << reason;
  }
}

TEST(Judge, NormalStopIsAUserStop) {
  EXPECT_EQ(judge(stopped("Stop Reason NORMAL", "cdc")), TaskPhase::kStoppedByUser);
  EXPECT_EQ(judge(stopped("", "cdc")), TaskPhase::kStoppedByUser);
}

TEST(Judge, RunningTasksAreLoadingUntilEveryTableIsLoaded) {
  TaskSnapshot s = snapshot("running", "full-load-and-cdc");
  s.full_load_progress_percent = 60;
  s.tables_loading = 2;
  s.tables_queued = 3;
  s.tables_errored = 0;
  s.full_load_finished = false;
  EXPECT_EQ(judge(s), TaskPhase::kLoading);
  s.full_load_progress_percent = 100;
  s.tables_loading = 0;
  s.tables_queued = 0;
  EXPECT_EQ(judge(s), TaskPhase::kReplicating);
  s.migration_type = "full-load";
  EXPECT_EQ(judge(s), TaskPhase::kLoading);  // a full-load task is done only when it stops
  s.migration_type = "cdc";
  s.full_load_progress_percent = 0;
  EXPECT_EQ(judge(s), TaskPhase::kReplicating);
}

TEST(Judge, TransitionalStates) {
  EXPECT_EQ(judge(snapshot("ready", "full-load")), TaskPhase::kNotStarted);
  EXPECT_EQ(judge(snapshot("starting", "full-load")), TaskPhase::kStarting);
  EXPECT_EQ(judge(snapshot("stopping", "full-load")), TaskPhase::kStopping);
  EXPECT_EQ(judge(snapshot("deleting", "full-load")), TaskPhase::kOther);
}

TEST(StopReasonCode, StripsThePrefix) {
  EXPECT_EQ(stop_reason_code("Stop Reason FATAL_ERROR"), "FATAL_ERROR");
  EXPECT_EQ(stop_reason_code("FATAL_ERROR"), "FATAL_ERROR");
}

}  // namespace
}  // namespace dagster_dms::orchestrate
