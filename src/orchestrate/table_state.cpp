#include "orchestrate/table_state.hpp"

#include <array>

#include "orchestrate/resource_states.hpp"

namespace dagster_dms::orchestrate {

std::int64_t target_row_count(const dms::TableStatistics& table) {
  return table.full_load_rows.value_or(0) + table.inserts.value_or(0) - table.deletes.value_or(0);
}

std::optional<std::string> table_failure(std::string_view table_state,
                                         std::string_view validation_state) {
  if (is_table_errored(table_state)) return "TableState is '" + std::string(table_state) + "'";
  // The ValidationState values DMS documents as a failed validation; `No primary key` and
  // `Not enabled` mean validation did not run, which is not a failure of the table.
  constexpr std::array<std::string_view, 4> kFailed{"Mismatched records", "Suspended records",
                                                    "Table error", "Error"};
  for (const auto failed : kFailed) {
    if (validation_state == failed) {
      return "ValidationState is '" + std::string(validation_state) + "'";
    }
  }
  return std::nullopt;
}

}  // namespace dagster_dms::orchestrate
