#pragma once

#include "dms/model/dms_model.hpp"
#include "replicate/full_load.hpp"

namespace dagster_dms::server {

// A table as the engine reports it, as DescribeTableStatistics shows it. `reloading`: a
// ReloadTables request for it is under way; `reloaded`: it has been reloaded (FullLoadReloaded).
dms::TableStatistics table_statistics(const replicate::TableStatus& table, bool reloading,
                                      bool reloaded);

// The inverse: a stored table as the engine knows it, so a resumed run carries its counters on.
replicate::TableStatus table_status(const dms::TableStatistics& stored);

}  // namespace dagster_dms::server
