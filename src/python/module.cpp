// The dagster_dms._native extension: the C++ core seen from Python. Kept thin on purpose: Python
// decides Dagster things, the core decides AWS things, and this file only translates between them
// (options in, JSON documents out, C++ exceptions to dagster_dms.errors).
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <dagster_dms/version.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrate/cdc_metrics.hpp"
#include "orchestrate/resource_filter.hpp"
#include "orchestrate/resource_states.hpp"
#include "orchestrate/table_state.hpp"
#include "python/errors_bridge.hpp"
#include "python/native_client.hpp"
#include "python/orchestration_bindings.hpp"

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
  // The YAML's filters are checked at load by the same code that applies them at refresh (RE2,
  // not Python's re): a pattern that loads is a pattern that runs.
  m.def(
      "check_resource_filter",
      [](const std::optional<std::string>& name_pattern,
         const std::optional<std::string>& exclude_pattern,
         const std::optional<std::string>& tags) {
        const dagster_dms::orchestrate::ResourceFilter filter(
            name_pattern, exclude_pattern,
            tags ? dagster_dms::orchestrate::parse_tag_filter(*tags)
                 : std::vector<dagster_dms::orchestrate::TagRequirement>{});
        (void)filter;
      },
      nb::arg("name_pattern").none(), nb::arg("exclude_pattern").none(), nb::arg("tags").none());
  m.def("is_instance_available", &dagster_dms::orchestrate::is_instance_available,
        nb::arg("status"));
  m.def("is_connection_failed", &dagster_dms::orchestrate::is_connection_failed, nb::arg("status"));
  m.def("is_table_errored", &dagster_dms::orchestrate::is_table_errored, nb::arg("table_state"));
  // Per-table assets: which tables a task writes, how many rows DMS counts and when a table failed.
  m.def("resolve_tables", &dagster_dms::python::resolve_tables, nb::arg("table_mappings"),
        nb::arg("known_sources"));
  m.def(
      "target_row_count",
      [](std::optional<std::int64_t> full_load_rows, std::optional<std::int64_t> inserts,
         std::optional<std::int64_t> deletes) {
        dagster_dms::dms::TableStatistics table;
        table.full_load_rows = full_load_rows;
        table.inserts = inserts;
        table.deletes = deletes;
        return dagster_dms::orchestrate::target_row_count(table);
      },
      nb::arg("full_load_rows").none(), nb::arg("inserts").none(), nb::arg("deletes").none());
  m.def("table_failure", &dagster_dms::orchestrate::table_failure, nb::arg("table_state"),
        nb::arg("validation_state"));
  m.def("valid_metrics_period", &dagster_dms::orchestrate::valid_metrics_period,
        nb::arg("seconds"));
}
