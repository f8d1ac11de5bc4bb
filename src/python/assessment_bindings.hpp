#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "aws/clock.hpp"
#include "dms/dms_client.hpp"

namespace dagster_dms::python {

// orchestrate::run_assessment: `options` is {"run_name", "service_access_role_arn",
// "result_bucket", "result_folder", "include_only": [...], "exclude": [...], "timeout_seconds",
// "poll_interval_seconds"} (an empty run_name gets a fresh one); `on_progress(run)` receives the
// run (API JSON) while it is followed. Answers {"finished", "passed", "message", "run",
// "individual": [...]} with the run and its individual assessments as the API spells them.
std::string run_assessment(dms::DmsClient& client, aws::Clock& clock, const std::string& task,
                           const std::string& options, nanobind::object on_progress,
                           nanobind::object should_stop);

}  // namespace dagster_dms::python
