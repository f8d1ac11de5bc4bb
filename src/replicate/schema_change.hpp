#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "replicate/change_sink.hpp"
#include "replicate/pgoutput.hpp"
#include "replicate/table_mapping.hpp"

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

// What one column change means for the target and the table's statistics.
struct SchemaDecision {
  std::size_t ddls = 0;     // column changes seen: the table's Ddls grow by this
  std::size_t applied = 0;  // of them, replayed on the target: AppliedDdls
  TargetAlteration alteration;
  std::vector<std::string> warnings;  // for the task log, each naming the table and what to do
  std::string applied_summary;        // `ADD COLUMN "c" text, ...`; empty when nothing applies
};

// Follows the selected tables' columns through the change stream and decides what a column
// change does on the target, per ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered.
//
// Column DDL is detected from pgoutput's Relation messages. PostgreSQL sends a new one before
// the first change to a table after its columns changed, inside the transaction of that
// change: replaying the DDL at that point keeps it in order with the data on both sides of it,
// needs no event trigger or audit table on the source (DMS's awsdms_ddl_audit), and also sees
// DDL made while the task was stopped. What it cannot see: a DDL no change follows yet (it
// reaches the target with the table's next change), renames (they look like a drop plus an
// add) and DDL that is not about columns.
class SchemaFollower {
 public:
  // Types a column the run has not seen yet (a query on the source).
  using DescribeColumn = std::function<SourceColumn(const pgoutput::RelationColumn&)>;

  // `catalog`: the source tables as read when the run started; `target_schema`:
  // TargetMetadata.TargetSchema (empty: the source schema).
  SchemaFollower(TableMapping mapping, std::vector<SourceTable> catalog, std::string target_schema,
                 bool replay_ddl, DescribeColumn describe);

  // Starts following a plan's table (in plan order) from the catalog's columns.
  void follow(const TablePlan& plan);
  // A resumed run: the catalog already has the columns added while the task was stopped. Those
  // the target lacks (`present`: the target table's columns) are left out of the starting
  // shape, so the stream's next description shows them as added and they are added.
  void forget_missing(std::size_t index, const TablePlan& plan,
                      const std::vector<std::string>& present);

  // The stream described the table of plan `index`: nullopt when its columns did not change.
  // When the change reaches the target, `plan` becomes the mapping's plan for the new columns.
  std::optional<SchemaDecision> on_relation(std::size_t index, TablePlan& plan,
                                            const pgoutput::Relation& relation);

 private:
  std::optional<TablePlan> replan(const TablePlan& plan, const pgoutput::Relation& relation,
                                  const std::vector<std::string>& retyped);
  SourceTable* catalog_table(const QualifiedName& name);

  TableMapping mapping_;
  std::vector<SourceTable> catalog_;  // source columns as last seen
  std::string target_schema_;
  bool replay_ddl_;
  DescribeColumn describe_;
  std::vector<std::vector<ColumnShape>> shapes_;  // per plan: the stream's last description
};

}  // namespace dagster_dms::replicate
