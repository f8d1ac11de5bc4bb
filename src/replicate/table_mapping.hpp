#pragma once

#include <string>
#include <vector>

#include "mapping/table_mapping.hpp"
#include "replicate/catalog.hpp"

namespace dagster_dms::replicate {

// The mapping rules themselves live in the core (src/mapping); the data plane turns them into
// load plans with the source catalog's columns and keys.
using mapping::MappingError;
using mapping::TableMapping;

struct MappedColumn {
  SourceColumn source;
  std::string target_name;
  std::string target_type;  // the type to create on a database target
};

// One selected table: what to read, where to write it, and how.
struct TablePlan {
  QualifiedName source;
  QualifiedName target;
  std::vector<MappedColumn> columns;
  std::vector<std::string> primary_key;  // target column names; empty when the key is gone
  std::string source_filter;             // SQL condition from selection filters; empty: all rows
  int load_order = 0;
  double estimated_rows = -1;
};

// The tables `mapping` selects from `catalog`, in load order (higher load-order first, then by
// name). Throws MappingError when two source tables would land in one target table.
std::vector<TablePlan> plan_tables(const TableMapping& mapping,
                                   const std::vector<SourceTable>& catalog);

}  // namespace dagster_dms::replicate
