#pragma once

#include <cstdint>
#include <string_view>

namespace dagster_dms::server {

// What a run does: its migration type (MigrationType of a task, ReplicationType of a serverless
// replication) and how it starts (StartReplicationTaskType, StartReplicationType).

inline constexpr std::string_view kMigrationFullLoad = "full-load";
inline constexpr std::string_view kMigrationCdc = "cdc";
inline constexpr std::string_view kMigrationFullLoadAndCdc = "full-load-and-cdc";

// InvalidParameterValueException naming `member` unless `type` is one of the three.
void require_migration_type(std::string_view member, std::string_view type);

// Whether a run of this migration type captures changes (and so holds a CDC slot).
[[nodiscard]] constexpr bool captures_changes(std::string_view migration_type) {
  return migration_type == kMigrationCdc || migration_type == kMigrationFullLoadAndCdc;
}

inline constexpr std::string_view kStartTypeStart = "start-replication";
inline constexpr std::string_view kStartTypeResume = "resume-processing";
inline constexpr std::string_view kStartTypeReload = "reload-target";

// InvalidParameterValueException naming `member` unless `type` is one of the three.
void require_start_type_value(std::string_view member, std::string_view type);

// The start-type rules shared by tasks and serverless replications: the type must be one of
// start-replication, resume-processing, reload-target (InvalidParameterValueException);
// start-replication only on the first run, the others only after one
// (InvalidResourceStateFault). `what` names the resource in the message ("Replication task x").
void check_start_type(std::string_view what, std::string_view type, std::int64_t previous_runs);

}  // namespace dagster_dms::server
