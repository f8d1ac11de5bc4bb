#include "replicate/schema_change.hpp"

#include <algorithm>

namespace dagster_dms::replicate {

std::vector<ColumnShape> shape_of(const pgoutput::Relation& relation) {
  std::vector<ColumnShape> out;
  out.reserve(relation.columns.size());
  for (const auto& column : relation.columns) {
    out.push_back({column.name, column.type_oid, column.type_modifier});
  }
  return out;
}

ShapeChange diff_shapes(const std::vector<ColumnShape>& before,
                        const std::vector<ColumnShape>& after) {
  const auto find = [](const std::vector<ColumnShape>& shape, const std::string& name) {
    return std::find_if(shape.begin(), shape.end(),
                        [&](const ColumnShape& column) { return column.name == name; });
  };
  ShapeChange change;
  for (const auto& column : before) {
    const auto now = find(after, column.name);
    if (now == after.end()) {
      change.dropped.push_back(column.name);
    } else if (column.type_oid != 0 &&
               (now->type_oid != column.type_oid || now->type_modifier != column.type_modifier)) {
      change.retyped.push_back(column.name);
    }
  }
  for (const auto& column : after) {
    if (find(before, column.name) == before.end()) change.added.push_back(column.name);
  }
  return change;
}

}  // namespace dagster_dms::replicate
