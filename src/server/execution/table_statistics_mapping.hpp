#pragma once

#include "dms/model/dms_model.hpp"
#include "replicate/full_load.hpp"
#include "replicate/validation_state.hpp"

namespace dagster_dms::server {

// A table as the engine reports it, as DescribeTableStatistics shows it. `reloading`: a
// ReloadTables request for it is under way; `reloaded`: it has been reloaded (FullLoadReloaded);
// `validation`: its data validation (ValidationState and the record counts).
dms::TableStatistics table_statistics(const replicate::TableStatus& table, bool reloading,
                                      bool reloaded, const replicate::TableValidation& validation);

// The inverse: a stored table as the engine knows it, so a resumed run carries its counters on.
replicate::TableStatus table_status(const dms::TableStatistics& stored);

}  // namespace dagster_dms::server
