#pragma once

#include "replicate/full_load.hpp"
#include "server/execution/reload_requests.hpp"
#include "server/execution/run_reporter.hpp"

namespace dagster_dms::server {

// Runs a full-load task to its end: the load (riding through recoverable errors), then the
// tables ReloadTables asked for meanwhile, batch by batch until none is left; then reports how
// the run ended.
void run_full_load_task(const replicate::FullLoadRequest& request, RunReporter& reporter,
                        ReloadRequests& reloads);

}  // namespace dagster_dms::server
