#pragma once

#include <chrono>
#include <functional>

#include "replicate/cdc.hpp"
#include "server/execution/reload_requests.hpp"
#include "server/execution/run_reporter.hpp"
#include "server/execution/run_validation.hpp"

namespace dagster_dms::server {

// Runs a cdc or full-load-and-cdc task to its end and reports how it ended. The task stays
// `running` while it replicates; only a stop, its CdcStopPosition or an error ends it. The run
// takes ReloadTables requests while it replicates (replicate/cdc_reload.hpp). `apply_delay`
// (optional, fault injection) is how long to wait before each commit on the target. With
// validation enabled, tables are compared on the validation's own thread while the run
// replicates (after the load, after a reload, ValidationQueryCdcDelaySeconds after changes).
void run_cdc_task(replicate::CdcRequest request, RunReporter& reporter, ReloadRequests& reloads,
                  RunValidation& validation,
                  const std::function<std::chrono::milliseconds()>& apply_delay);

}  // namespace dagster_dms::server
