#include "replicate/schema_change.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "replicate/ddl.hpp"

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

namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string names(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + quote_ident(item);
  return out;
}

}  // namespace

SchemaFollower::SchemaFollower(TableMapping mapping, std::vector<SourceTable> catalog,
                               std::string target_schema, bool replay_ddl, DescribeColumn describe)
    : mapping_(std::move(mapping)),
      catalog_(std::move(catalog)),
      target_schema_(std::move(target_schema)),
      replay_ddl_(replay_ddl),
      describe_(std::move(describe)) {}

SourceTable* SchemaFollower::catalog_table(const QualifiedName& name) {
  for (auto& table : catalog_) {
    if (table.name == name) return &table;
  }
  return nullptr;
}

void SchemaFollower::follow(const TablePlan& plan) {
  std::vector<ColumnShape> shape;
  if (const auto* known = catalog_table(plan.source)) {
    for (const auto& column : known->columns) shape.push_back({column.name});
  }
  shapes_.push_back(std::move(shape));
}

void SchemaFollower::forget_missing(std::size_t index, const TablePlan& plan,
                                    const std::vector<std::string>& present) {
  std::erase_if(shapes_[index], [&](const ColumnShape& column) {
    const auto mapped =
        std::find_if(plan.columns.begin(), plan.columns.end(),
                     [&](const MappedColumn& c) { return c.source.name == column.name; });
    return mapped != plan.columns.end() && !contains(present, mapped->target_name);
  });
}

std::optional<SchemaDecision> SchemaFollower::on_relation(std::size_t index, TablePlan& plan,
                                                          const pgoutput::Relation& relation) {
  auto shape = shape_of(relation);
  const auto change = diff_shapes(shapes_[index], shape);
  shapes_[index] = std::move(shape);
  if (change.empty()) return std::nullopt;
  SchemaDecision decision;
  decision.ddls = change.count();
  const auto table = plan.source.display();
  if (!replay_ddl_) {
    decision.warnings.push_back(fmt::format(
        "Columns of table {} changed on the source (added: [{}], dropped: [{}], type changed: "
        "[{}]); not applied to the target (ChangeProcessingDdlHandlingPolicy."
        "HandleSourceTableAltered is false): added columns are not replicated.",
        table, names(change.added), names(change.dropped), names(change.retyped)));
    return decision;
  }
  auto replanned = replan(plan, relation, change.retyped);
  if (!replanned) {
    decision.warnings.push_back(
        fmt::format("Columns of table {} changed on the source, but the table mappings no longer "
                    "select it as it is now; the target is not altered.",
                    table));
    return decision;
  }
  auto& alteration = decision.alteration;
  for (const auto& column : replanned->columns) {
    if (contains(change.added, column.source.name)) alteration.added.push_back(column);
    if (contains(change.retyped, column.source.name)) alteration.retyped.push_back(column);
  }
  if (change.added.empty()) {
    for (const auto& column : plan.columns) {
      if (contains(change.dropped, column.source.name)) {
        alteration.dropped.push_back(column.target_name);
      }
    }
  } else if (!change.dropped.empty()) {
    // A rename and a DROP + ADD look alike here; keeping the old column loses nothing.
    decision.warnings.push_back(fmt::format(
        "Table {}: columns [{}] disappeared and [{}] appeared on the source. dms-local cannot "
        "tell a RENAME COLUMN from DROP + ADD COLUMN, so it adds the new columns and keeps the "
        "old ones on the target (NULL in rows changed from now on). If it was a rename, move the "
        "values over and drop the old column on the target.",
        table, names(change.dropped), names(change.added)));
  }
  decision.applied =
      alteration.added.size() + alteration.dropped.size() + alteration.retyped.size();
  const auto add = [&](const std::string& part) {
    auto& summary = decision.applied_summary;
    summary += (summary.empty() ? "" : ", ") + part;
  };
  for (const auto& column : alteration.added) {
    add(fmt::format("ADD COLUMN {} {}", quote_ident(column.target_name), column.target_type));
  }
  for (const auto& column : alteration.dropped) add("DROP COLUMN " + quote_ident(column));
  for (const auto& column : alteration.retyped) {
    add(fmt::format("ALTER COLUMN {} TYPE {}", quote_ident(column.target_name),
                    column.target_type));
  }
  plan = std::move(*replanned);
  return decision;
}

// The table's plan for its columns as the Relation message lists them: the mapping's
// transformation rules apply to new columns as they did to the others at the start.
std::optional<TablePlan> SchemaFollower::replan(const TablePlan& plan,
                                                const pgoutput::Relation& relation,
                                                const std::vector<std::string>& retyped) {
  SourceTable table;
  table.name = plan.source;
  SourceTable* known = catalog_table(table.name);
  for (const auto& column : relation.columns) {
    const SourceColumn* existing = nullptr;
    if (known != nullptr) {
      for (const auto& candidate : known->columns) {
        if (candidate.name == column.name) existing = &candidate;
      }
    }
    const bool known_type = existing != nullptr && !contains(retyped, column.name);
    table.columns.push_back(known_type ? *existing : describe_(column));
  }
  if (known != nullptr) {
    for (const auto& key : known->primary_key) {
      const bool kept = std::any_of(table.columns.begin(), table.columns.end(),
                                    [&](const SourceColumn& c) { return c.name == key; });
      if (kept) table.primary_key.push_back(key);
    }
  }
  auto plans = plan_tables(mapping_, {table});
  if (plans.empty()) return std::nullopt;
  auto out = std::move(plans.front());
  if (!target_schema_.empty() && out.target.schema == out.source.schema) {
    out.target.schema = target_schema_;
  }
  if (known != nullptr) {
    known->columns = table.columns;
  } else {
    catalog_.push_back(std::move(table));
  }
  return out;
}

}  // namespace dagster_dms::replicate
