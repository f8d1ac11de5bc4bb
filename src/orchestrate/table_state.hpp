#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dms/model/dms_model.hpp"

namespace dagster_dms::orchestrate {

// What DescribeTableStatistics says about one table, judged once for every caller (the
// component's per-table assets and checks, dmsctl).

// Rows the target table holds by DMS's own counts: rows copied by the full load plus CDC inserts
// minus CDC deletes. It is not a count(*) on the target (filters, apply errors and writes by
// others are not seen).
std::int64_t target_row_count(const dms::TableStatistics& table);

// Why a table has failed, or nullopt while it is healthy: TableState `Table error`, or a
// ValidationState that reports failed or suspended records or a validation error.
std::optional<std::string> table_failure(std::string_view table_state,
                                         std::string_view validation_state);

}  // namespace dagster_dms::orchestrate
