// The dagster_dms._native extension: the C++ core seen from Python. Kept thin on purpose: Python
// decides Dagster things, the core decides AWS things, and this file only translates between them
// (options in, JSON documents out, C++ exceptions to dagster_dms.errors).
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <dagster_dms/version.hpp>

#include "orchestrate/resource_filter.hpp"
#include "python/errors_bridge.hpp"
#include "python/native_client.hpp"

namespace nb = nanobind;

NB_MODULE(_native, m) {
  m.doc() =
      "The dagster-dms C++ core (AWS plumbing, typed DMS/CloudWatch/Logs clients, task runner).";
  m.attr("__version__") = dagster_dms::kVersion;
  dagster_dms::python::register_error_translation(m);
  dagster_dms::python::bind_native_client(m);
  // The same words dmsctl uses, so a pattern that can never match an identifier is explained
  // alike everywhere (the component names its own YAML field).
  m.def("identifier_pattern_warning", &dagster_dms::orchestrate::identifier_pattern_warning,
        nb::arg("field"), nb::arg("pattern"));
}
