#include "replicate/table_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "mapping/wildcard.hpp"
#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {
namespace {

std::string condition_sql(const std::string& column, const TableMapping::FilterCondition& c,
                          const std::string& rule_id) {
  const auto need = [&](const std::optional<std::string>& v, const char* what) {
    if (!v)
      mapping::throw_rule_error(rule_id,
                                fmt::format("Filter condition '{}' requires '{}'.", c.op, what));
    return quote_literal(*v);
  };
  const std::string col = quote_ident(column);
  if (c.op == "eq") return col + " = " + need(c.value, "value");
  if (c.op == "noteq") return col + " <> " + need(c.value, "value");
  if (c.op == "gte") return col + " >= " + need(c.value, "value");
  if (c.op == "lte" || c.op == "ste") return col + " <= " + need(c.value, "value");
  if (c.op == "between") {
    return col + " BETWEEN " + need(c.start, "start-value") + " AND " + need(c.end, "end-value");
  }
  if (c.op == "notbetween") {
    return col + " NOT BETWEEN " + need(c.start, "start-value") + " AND " +
           need(c.end, "end-value");
  }
  if (c.op == "null") return col + " IS NULL";
  if (c.op == "notnull") return col + " IS NOT NULL";
  mapping::throw_rule_error(rule_id, fmt::format("Unknown filter operator '{}'.", c.op));
}

// Filters AND together; the conditions inside one filter OR together.
std::string filter_sql(const TableMapping::Rule& rule, const SourceTable& table) {
  std::vector<std::string> parts;
  for (const auto& filter : rule.filters) {
    const bool known = std::any_of(table.columns.begin(), table.columns.end(),
                                   [&](const SourceColumn& c) { return c.name == filter.column; });
    if (!known) {
      mapping::throw_rule_error(
          rule.id, fmt::format("Filter column '{}' does not exist in table {}.", filter.column,
                               table.name.display()));
    }
    std::vector<std::string> alternatives;
    for (const auto& condition : filter.conditions) {
      alternatives.push_back(condition_sql(filter.column, condition, rule.id));
    }
    if (!alternatives.empty())
      parts.push_back("(" + fmt::format("{}", fmt::join(alternatives, " OR ")) + ")");
  }
  return fmt::format("{}", fmt::join(parts, " AND "));
}

}  // namespace

std::vector<TablePlan> plan_tables(const TableMapping& mapping,
                                   const std::vector<SourceTable>& catalog) {
  std::vector<TablePlan> plans;
  std::map<QualifiedName, QualifiedName> claimed;  // target -> source
  for (const auto& table : catalog) {
    const auto* include = mapping.selecting_rule(
        table.name, table.is_view ? mapping::ObjectKind::kView : mapping::ObjectKind::kTable);
    if (include == nullptr) continue;

    TablePlan plan;
    plan.source = table.name;
    plan.target = mapping.target_of(table.name);
    plan.load_order = include->load_order;
    plan.estimated_rows = table.estimated_rows;
    plan.source_filter = filter_sql(*include, table);

    std::vector<bool> removed(table.columns.size(), false);
    std::vector<bool> kept_explicitly(table.columns.size(), false);
    bool has_include_column = false;
    for (const auto& column : table.columns) {
      plan.columns.push_back(
          {column, column.name,
           column.user_defined
               ? std::string(column.is_array ? "character varying[]" : "character varying")
               : column.type});
    }
    std::vector<std::string> key = table.primary_key;

    for (const auto& rule : mapping.rules()) {
      if (rule.type != "transformation" ||
          !mapping::locator_matches_table(rule.locator, table.name))
        continue;
      if (rule.target == "table" && rule.action == "define-primary-key") {
        key = rule.primary_key_columns;
      } else if (rule.target == "column") {
        for (std::size_t i = 0; i < plan.columns.size(); ++i) {
          auto& column = plan.columns[i];
          if (!mapping::wildcard_match(rule.locator.column, column.source.name)) continue;
          if (rule.action == "remove-column") {
            removed[i] = true;
          } else if (rule.action == "include-column") {
            has_include_column = true;
            kept_explicitly[i] = true;
          } else if (rule.action == "change-data-type") {
            column.target_type = *rule.data_type;
          } else if (auto name = mapping::apply_naming_action(rule, column.target_name)) {
            column.target_name = *name;
          }
        }
      }
    }

    // Keep the key only if all its columns survive; it is expressed in target names.
    std::vector<MappedColumn> kept;
    for (std::size_t i = 0; i < plan.columns.size(); ++i) {
      if (removed[i] || (has_include_column && !kept_explicitly[i])) continue;
      kept.push_back(plan.columns[i]);
    }
    for (const auto& key_column : key) {
      const auto found = std::find_if(kept.begin(), kept.end(), [&](const MappedColumn& c) {
        return c.source.name == key_column;
      });
      if (found == kept.end()) {
        plan.primary_key.clear();
        break;
      }
      plan.primary_key.push_back(found->target_name);
    }
    plan.columns = std::move(kept);
    if (plan.columns.empty()) {
      throw MappingError(
          fmt::format("Error in mapping rules. Table {} has no columns left after transformations.",
                      table.name.display()));
    }
    std::set<std::string> names;
    for (const auto& column : plan.columns) {
      if (!names.insert(column.target_name).second) {
        throw MappingError(fmt::format(
            "Error in mapping rules. Two columns of table {} map to target column '{}'.",
            table.name.display(), column.target_name));
      }
    }
    if (const auto [it, fresh] = claimed.emplace(plan.target, plan.source); !fresh) {
      throw MappingError(fmt::format(
          "Error in mapping rules. Tables {} and {} both map to target table {}; two source "
          "tables can't map to one target table.",
          it->second.display(), plan.source.display(), plan.target.display()));
    }
    plans.push_back(std::move(plan));
  }
  std::stable_sort(plans.begin(), plans.end(), [](const TablePlan& a, const TablePlan& b) {
    if (a.load_order != b.load_order) return a.load_order > b.load_order;
    return a.source < b.source;
  });
  return plans;
}

}  // namespace dagster_dms::replicate
