#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "aws/clock.hpp"
#include "dms/dms_client.hpp"

namespace dagster_dms::python {

// Runs orchestrate::TaskRunner with the GIL released. `options` is a JSON document (see the .cpp);
// `on_progress(dict)` and `should_stop() -> bool` are called back with the GIL held. Returns the
// run's result as a JSON document.
std::string run_task(dms::DmsClient& client, aws::Clock& clock, const std::string& task,
                     const std::string& options, nanobind::object on_progress,
                     nanobind::object should_stop);

// Lists tasks / endpoints / instances / replication-configs through orchestrate::Discovery with
// the filters in `options` (JSON); returns {"items": [{"resource": ..., "tags": {...}}], ...}.
std::string discover(dms::DmsClient& client, const std::string& kind, const std::string& options);

}  // namespace dagster_dms::python
