#include "replicate/change_sink.hpp"

#include <algorithm>

namespace dagster_dms::replicate {

std::optional<RelationColumns> match_relation(const std::vector<TablePlan>& plans,
                                              const pgoutput::Relation& relation) {
  const QualifiedName name{relation.schema, relation.name};
  const auto it = std::find_if(plans.begin(), plans.end(),
                               [&](const TablePlan& plan) { return plan.source == name; });
  if (it == plans.end()) return std::nullopt;
  RelationColumns matched;
  matched.plan = static_cast<std::size_t>(it - plans.begin());
  for (const auto& column : relation.columns) {
    const auto mapped =
        std::find_if(it->columns.begin(), it->columns.end(),
                     [&](const MappedColumn& c) { return c.source.name == column.name; });
    matched.targets.push_back(mapped == it->columns.end() ? std::string() : mapped->target_name);
  }
  return matched;
}

}  // namespace dagster_dms::replicate
