#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dms/model/dms_model.hpp"
#include "replicate/full_load.hpp"

namespace dagster_dms::server {

// The ReloadTables requests of one run: accepted from the control plane's threads, taken by the
// run's engine, shown in the run's table statistics meanwhile. Thread-safe.
class ReloadRequests {
 public:
  // Queues the tables for a reload. Returns one entry per table: empty when accepted, else why
  // not (the run is ending).
  std::vector<std::string> add(const std::vector<dms::TableToReload>& tables);

  // The tables asked for and not reloaded yet: waiting, or being reloaded.
  [[nodiscard]] std::vector<replicate::QualifiedName> in_progress() const;

  // For a run that reloads while it goes on (CDC): the tables asked for since the last call; they
  // count as being reloaded until finished() names them.
  std::vector<replicate::QualifiedName> take();
  void finished(const std::vector<replicate::QualifiedName>& tables);

  // For a run that reloads after its load (full load): the batch to reload next, or nullopt once
  // none is waiting, and the run then takes no more. The batch counts as being reloaded until
  // batch_finished().
  std::optional<std::vector<replicate::QualifiedName>> next_batch();
  void batch_finished();

  // The run takes no more requests. close_and_forget() also drops those that never began: they
  // are not being reloaded any more.
  void close();
  void close_and_forget();

 private:
  mutable std::mutex mutex_;
  std::vector<replicate::QualifiedName> waiting_;
  std::vector<replicate::QualifiedName> reloading_;
  bool closed_ = false;
};

}  // namespace dagster_dms::server
