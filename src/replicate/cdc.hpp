#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "replicate/cdc_positions.hpp"
#include "replicate/full_load.hpp"
#include "replicate/pgoutput.hpp"
#include "replicate/recoverable_errors.hpp"

namespace dagster_dms::replicate {

// What CloudWatch shows about ongoing replication (AWS's definitions): latencies in seconds from
// the source commit time of the last change read (source) or applied (target), both 0 while
// caught up; changes read but not yet applied; rows and KB per second read and applied (bytes
// of decoded change data); MB of changes held in memory: read from the source and waiting for
// their transaction's commit (source), committed and waiting to be durable on the target
// (target).
struct CdcMetrics {
  double latency_source_seconds = 0;
  double latency_target_seconds = 0;
  double incoming_changes = 0;
  double throughput_rows_source = 0;
  double throughput_rows_target = 0;
  double throughput_bandwidth_source_kb = 0;
  double throughput_bandwidth_target_kb = 0;
  double changes_memory_source_mb = 0;
  double changes_memory_target_mb = 0;
};

// Receives a CDC run's events; like FullLoadObserver, calls never overlap.
class CdcObserver : public FullLoadObserver {
 public:
  // The slot holds the run's position: every change committed from now on will be replicated.
  // Until then a change could be missed, so the task is not yet shown `running`.
  virtual void on_capturing() {}
  // The full load (when the run has one) ended; kFinished means replication starts next.
  virtual void on_full_load_done(const FullLoadResult& /*result*/) {}
  // Every table with its full-load and change counters.
  virtual void on_cdc_tables(const std::vector<TableStatus>& /*tables*/) {}
  // Everything up to `confirmed` is committed on the target: where a resume continues. Called
  // at the report interval and when the run ends, so the stored position may be behind the
  // slot's after a crash; the target's own record of its position (awsdms_txn_state, the
  // positions in s3 file names) never is, and a resume goes on from the greater.
  virtual void on_checkpoint(Lsn /*confirmed*/) {}
  virtual void on_cdc_metrics(const CdcMetrics& /*metrics*/) {}
  // ReloadTables: these tables were loaded again while the run replicated (or could not be:
  // "Table error"); their change counters go on.
  virtual void on_tables_reloaded(const std::vector<TableStatus>& /*tables*/) {}
};

class ChangeCapture;

struct CdcRequest {
  FullLoadRequest load;   // source, target (postgres only), mappings, settings, stop token
  std::string slot;       // replication_slot_name(task resource id)
  std::string task_name;  // the task resource id: its row in the target's awsdms_txn_state
  bool full_load = false;
  // resume-processing: continue from this confirmed position on the existing slot. Without it
  // the run starts fresh: publications and slot are (re)created.
  std::optional<Lsn> resume_from;
  // With resume_from: the tables as the previous run left them (full-load rows, counters), so
  // the statistics go on from there.
  std::vector<TableStatus> previous_tables;
  // CdcStartPosition (cdc tasks): replication starts there instead of where the slot stands. An
  // existing slot is kept (its publications too); the run fails when the slot cannot deliver
  // the position any more.
  std::optional<Lsn> start_position;
  // CdcStopPosition: the run ends kFinished (STOPPED_AT_SERVER_TIME / STOPPED_AT_COMMIT_TIME)
  // after the last transaction before it.
  std::optional<CdcStopPosition> stop_position;
  std::chrono::milliseconds report_interval{500};
  // Optional: called before each source transaction is committed on the target (dms-local's
  // injected apply delay). It must return promptly once the stop token fires.
  std::function<void(const std::stop_token&)> before_commit;
  // ReloadTables while the run replicates (optional; see cdc_reload.hpp): `take_reloads`
  // returns the source tables asked for since its last call; `reloads_finished` says that their
  // reload is over, just before the observer hears of it.
  std::function<std::vector<QualifiedName>()> take_reloads;
  std::function<void(const std::vector<QualifiedName>&)> reloads_finished;
  // Change capture from a source other than PostgreSQL (the MySQL family's binary log); when
  // set, run_cdc hands the whole run to it.
  std::shared_ptr<ChangeCapture> other_capture;
};

enum class CdcOutcome {
  kStopped,          // the stop token fired
  kFailed,           // see failure_message
  kFullLoadStopped,  // the stop token fired during the full load
  kFinished,         // the task's settings or its CdcStopPosition ended it: see stop_reason
};

struct CdcResult {
  CdcOutcome outcome = CdcOutcome::kStopped;
  std::string failure_message;
  // kFailed: whether retrying could help (see run_cdc_recovering).
  ErrorKind error_kind = ErrorKind::kFatal;
  std::string stop_reason;  // kFinished: Stop Reason STOPPED_AFTER_FULL_LOAD or ..._CACHED_EVENTS
  std::vector<TableStatus> tables;
};

// A cdc task's target tables, created where missing (a cdc task without a full load replicates
// into the tables as they are; DMS creates those that do not exist).
void create_missing_cdc_tables(PgConnection& target, const std::vector<TablePlan>& plans);

// The tables a CDC run starts with, one per plan, in plan order: `Before load` for a run that
// loads first, otherwise as the previous run left them (resume) or completed. TargetSchema
// (non-empty `target_schema`) is applied to the plans on the way.
std::vector<TableStatus> starting_cdc_tables(std::vector<TablePlan>& plans,
                                             const CdcRequest& request,
                                             const std::string& target_schema);

// Runs a cdc or full-load-and-cdc task from a source other than PostgreSQL, with run_cdc's
// contract.
class ChangeCapture {
 public:
  virtual ~ChangeCapture() = default;
  virtual CdcResult run(const CdcRequest& request, CdcObserver& observer) = 0;
};

// DMS's RecoveryCheckpoint form of a confirmed position,
// `checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0`, and back (nullopt when the text holds no
// position).
std::string recovery_checkpoint(Lsn confirmed);
std::optional<Lsn> parse_recovery_checkpoint(std::string_view checkpoint);

// Runs a cdc or full-load-and-cdc task until the stop token fires or an error ends it. Never
// throws for data-plane problems; passwords never appear in any message.
CdcResult run_cdc(const CdcRequest& request, CdcObserver& observer);

// Drops a task's slot and publications from the source (DeleteReplicationTask). Throws PgError.
void drop_cdc_artifacts(const PgEndpoint& source, const std::string& slot);

// The publications a task's slot reads: one with every operation for tables with a primary key,
// one with inserts and truncates only for tables without (PostgreSQL would otherwise refuse
// updates and deletes on them at the source; DMS drops those changes anyway).
std::string publication_with_key(const std::string& slot);
std::string publication_without_key(const std::string& slot);

}  // namespace dagster_dms::replicate
