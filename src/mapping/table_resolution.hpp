#pragma once

#include <string>
#include <vector>

#include "mapping/qualified_name.hpp"
#include "mapping/table_mapping.hpp"

namespace dagster_dms::mapping {

// One table a task writes: where DMS reads it and where it lands.
struct MappedTable {
  QualifiedName source;
  QualifiedName target;
};

// The tables a task's mappings select, as far as they can be known without the source database.
struct TableResolution {
  std::vector<MappedTable> tables;  // by source name
  // Ids of include rules whose locator has `%` or a bracket class and which no known table
  // matched: their tables appear once the task's table statistics list them.
  std::vector<std::string> unresolved_rule_ids;
};

// Resolves a task's tables. Names come from include and explicit rules that name one table (no
// `%` or bracket class; a `_` is read as itself, the way users write exact names) and from
// `known_sources` (the task's table statistics, which name source tables). Each candidate is
// kept only if the mapping selects it (exclude rules win) and is renamed by the transformation
// rules, exactly as dms-local plans its loads.
TableResolution resolve_tables(const TableMapping& mapping,
                               const std::vector<QualifiedName>& known_sources);

}  // namespace dagster_dms::mapping
