#pragma once

#include "replicate/full_load.hpp"
#include "server/execution/reload_requests.hpp"
#include "server/execution/run_reporter.hpp"
#include "server/execution/run_validation.hpp"

namespace dagster_dms::server {

// Runs a full-load task to its end: the load (riding through recoverable errors), then the
// tables ReloadTables asked for meanwhile, batch by batch until none is left; then reports how
// the run ended. With validation enabled, the loaded tables (and each reloaded batch) are
// compared before the run reports its end, as are tables named by validate-only reloads.
void run_full_load_task(const replicate::FullLoadRequest& request, RunReporter& reporter,
                        ReloadRequests& reloads, RunValidation& validation);

}  // namespace dagster_dms::server
