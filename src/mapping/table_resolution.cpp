#include "mapping/table_resolution.hpp"

#include <algorithm>
#include <set>

#include "mapping/wildcard.hpp"

namespace dagster_dms::mapping {
namespace {

bool names_one_table(const TableMapping::Rule& rule) {
  return rule.action == "explicit" || (!names_unlisted_tables(rule.locator.schema) &&
                                       !names_unlisted_tables(rule.locator.table));
}

}  // namespace

TableResolution resolve_tables(const TableMapping& mapping,
                               const std::vector<QualifiedName>& known_sources) {
  std::set<QualifiedName> candidates(known_sources.begin(), known_sources.end());
  TableResolution resolution;
  for (const auto& rule : mapping.rules()) {
    if (rule.type != "selection" || rule.action == "exclude") continue;
    if (names_one_table(rule)) {
      candidates.insert({rule.locator.schema, rule.locator.table});
      continue;
    }
    const bool matched = std::any_of(
        known_sources.begin(), known_sources.end(),
        [&](const QualifiedName& known) { return locator_matches_table(rule.locator, known); });
    if (!matched) resolution.unresolved_rule_ids.push_back(rule.id);
  }
  for (const auto& source : candidates) {
    if (mapping.selecting_rule(source, ObjectKind::kUnknown) == nullptr) continue;
    resolution.tables.push_back({source, mapping.target_of(source)});
  }
  return resolution;
}

}  // namespace dagster_dms::mapping
