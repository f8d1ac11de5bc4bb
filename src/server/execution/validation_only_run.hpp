#pragma once

#include "replicate/full_load.hpp"
#include "server/execution/run_reporter.hpp"
#include "server/execution/run_validation.hpp"

namespace dagster_dms::server {

// A full-load task with ValidationSettings.ValidationOnly: moves no data. The tables the mappings
// select are compared on source and target (run_validation.hpp), then the run ends like a
// finished full load (Stop Reason FULL_LOAD_ONLY_FINISHED); a stop ends it stopped.
void run_validation_only_task(const replicate::FullLoadRequest& request, RunReporter& reporter,
                              RunValidation& validation);

}  // namespace dagster_dms::server
