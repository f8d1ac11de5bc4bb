#pragma once

#include <compare>
#include <string>

namespace dagster_dms::mapping {

// A table's schema and name, as DMS table mappings and table statistics name it.
struct QualifiedName {
  std::string schema;
  std::string table;

  friend auto operator<=>(const QualifiedName&, const QualifiedName&) = default;
  // `'schema'.'table'`, the way DMS logs name a table.
  [[nodiscard]] std::string display() const { return "'" + schema + "'.'" + table + "'"; }
};

}  // namespace dagster_dms::mapping
