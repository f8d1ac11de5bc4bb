#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "replicate/pgoutput.hpp"

namespace dagster_dms::replicate {

// A source table's columns as the change stream last described them. `type_oid` 0: not known
// yet (the shape read from the catalog when the run started), so no type change is reported.
struct ColumnShape {
  std::string name;
  std::uint32_t type_oid = 0;
  std::int32_t type_modifier = -1;
};

std::vector<ColumnShape> shape_of(const pgoutput::Relation& relation);

// How a table's columns changed between two descriptions, by column name. The Relation message
// carries names, not column numbers: a rename shows as a drop plus an add, and a DROP then ADD
// of one name between two changes to the table shows as a type change (or not at all).
struct ShapeChange {
  std::vector<std::string> added;    // in the table's new column order
  std::vector<std::string> dropped;  // in the old column order
  std::vector<std::string> retyped;  // kept names whose type or type modifier changed
  [[nodiscard]] bool empty() const { return added.empty() && dropped.empty() && retyped.empty(); }
  // One DDL per column it touched: the unit of the Ddls statistic.
  [[nodiscard]] std::size_t count() const { return added.size() + dropped.size() + retyped.size(); }
};

ShapeChange diff_shapes(const std::vector<ColumnShape>& before,
                        const std::vector<ColumnShape>& after);

}  // namespace dagster_dms::replicate
