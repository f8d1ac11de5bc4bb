#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "replicate/cdc.hpp"
#include "replicate/replication_stream.hpp"

namespace dagster_dms::replicate {

// ReloadTables of a running CDC run, done the way PostgreSQL's own table synchronisation does
// it. A temporary logical slot exports a snapshot together with the stream position it stands
// for (the slot's consistent point): every transaction that committed before the point is in
// the snapshot, every later one is not. The run goes on applying the stream as usual until it
// reaches the point, then copies the tables from the snapshot (replacing what the target holds,
// as the task's TargetTablePrepMode says) and carries on with the transactions committed after
// it. Each change of a reloaded table thus reaches the target exactly once, from the snapshot
// or from the stream; the other tables never stop replicating, they only wait while the copy
// runs. Everything before the point is durable on the target before the copy begins, so a run
// that crashes during or after the copy resumes at or past the point: no change is applied a
// second time on top of the copy (a copy cut short is rolled back with its target transaction).
//
// Used by the CDC engine's thread only.
class TableReloader {
 public:
  TableReloader(const CdcRequest& request, CdcObserver& observer)
      : request_(request), observer_(observer) {}

  // Between two source transactions: takes the tables asked for since the last call and, when
  // there are any and no reload is under way, prepares their reload. `settle` makes everything
  // the run has committed durable first: a logical slot is created only once every transaction
  // of the cluster that holds a transaction id has ended, the run's own included.
  void poll(const std::function<void()>& settle);

  // A reload is prepared and waits for the stream to reach its point: the engine then asks
  // the server for keepalives while the stream is quiet.
  [[nodiscard]] bool waiting() const { return !tables_.empty(); }

  // Whether the stream has reached the prepared reload's point at `position`: the next
  // transaction's commit position, or a keepalive's end while no transaction is open.
  [[nodiscard]] bool due(Lsn position) const;

  // Copies the prepared reload's tables from its snapshot and updates their entries in
  // `tables` (load state, rows, times; the change counters go on). `keep_alive` is called about
  // once a second while the copy runs, so the stream does not look dead to the server.
  // Returns the reloaded tables' entries.
  std::vector<TableStatus> run(std::vector<TableStatus>& tables,
                               const std::function<void()>& keep_alive);

 private:
  const CdcRequest& request_;
  CdcObserver& observer_;
  std::vector<QualifiedName> tables_;          // the prepared reload's tables
  std::optional<ReplicationStream> snapshot_;  // holds the temporary slot and its snapshot
  CreatedSlot point_;                          // where the snapshot stands in the stream
  std::string failure_;                        // the reload could not be prepared: why
};

// The name of a run's temporary reload slot: the run's slot name with a suffix, at most 63
// characters.
std::string reload_slot_name(const std::string& slot);

}  // namespace dagster_dms::replicate
