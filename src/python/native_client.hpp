#pragma once

#include <nanobind/nanobind.h>

namespace dagster_dms::python {

// Binds NativeClient: one aws::Session with its DMS, CloudWatch and Logs clients. Python's
// DmsClient wraps it with typed models; every network call releases the GIL.
void bind_native_client(nanobind::module_& m);

}  // namespace dagster_dms::python
