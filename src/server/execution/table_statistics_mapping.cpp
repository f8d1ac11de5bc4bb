#include "server/execution/table_statistics_mapping.hpp"

#include <string>

namespace dagster_dms::server {

namespace rep = replicate;

dms::TableStatistics table_statistics(const rep::TableStatus& table, bool reloading, bool reloaded,
                                      const rep::TableValidation& validation) {
  dms::TableStatistics out;
  // DMS names a table by its source schema and name, whatever the mapping renamed it to.
  out.schema_name = table.source.schema;
  out.table_name = table.source.table;
  rep::copy_change_counters(out, table, [](auto& to, const auto& from) { to = from; });
  out.full_load_rows = table.full_load_rows;
  out.full_load_condtnl_chk_failed_rows = 0;
  out.full_load_error_rows = 0;
  out.full_load_start_time = table.full_load_start_time;
  out.full_load_end_time = table.full_load_end_time;
  out.full_load_reloaded = reloaded;
  out.last_update_time = table.last_update_time;
  // A reload shows as its own state until the table is loaded again (DMS's wording).
  out.table_state = reloading ? std::string("Table is being reloaded")
                              : std::string(rep::table_state_name(table.state));
  out.validation_pending_records = validation.pending_records;
  out.validation_failed_records = validation.failed_records;
  out.validation_suspended_records = validation.suspended_records;
  out.validation_state = std::string(rep::validation_state_name(validation.state));
  if (!validation.details.empty()) out.validation_state_details = validation.details;
  return out;
}

// The inverse of table_statistics(): a stored table as the engine knows it.
rep::TableStatus table_status(const dms::TableStatistics& stored) {
  rep::TableStatus out;
  out.source = {stored.schema_name.value_or(""), stored.table_name.value_or("")};
  out.target = out.source;
  // A stored table ended its load in error, cancelled or completed; anything else counts as
  // completed.
  const auto state = stored.table_state.value_or("");
  out.state = rep::TableState::kCompleted;
  for (const auto ended : {rep::TableState::kError, rep::TableState::kCancelled}) {
    if (state == rep::table_state_name(ended)) out.state = ended;
  }
  out.full_load_rows = stored.full_load_rows.value_or(0);
  out.full_load_start_time = stored.full_load_start_time;
  out.full_load_end_time = stored.full_load_end_time;
  out.last_update_time = stored.last_update_time.value_or(rep::Clock::now());
  rep::copy_change_counters(out, stored, [](auto& to, const auto& from) { to = from.value_or(0); });
  return out;
}

}  // namespace dagster_dms::server
