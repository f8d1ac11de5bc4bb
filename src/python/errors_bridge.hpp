#pragma once

#include <nanobind/nanobind.h>

namespace dagster_dms::python {

// Turns the core's exceptions into the dagster_dms.errors hierarchy, keeping AWS code, message,
// HTTP status and request id.
void register_error_translation(nanobind::module_& m);

}  // namespace dagster_dms::python
