#include "replicate/table_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "replicate/ddl.hpp"
#include "replicate/wildcard.hpp"

namespace dagster_dms::replicate {
namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& rule_id, std::string_view detail) {
  throw MappingError(fmt::format(
      "Error in mapping rules. Rule with ruleId = {} failed validation. {}", rule_id, detail));
}

// DMS examples give ids and numbers as strings; clients also send numbers.
std::string scalar_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) return fmt::format("{}", value.get<double>());
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return value.dump();
}

std::string text_field(const json& object, const char* key, const std::string& fallback = {}) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return fallback;
  return scalar_text(*found);
}

std::optional<int> int_field(const json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end() || found->is_null()) return std::nullopt;
  try {
    return std::stoi(scalar_text(*found));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

long long rule_number(const std::string& id) {
  try {
    return std::stoll(id);
  } catch (const std::exception&) {
    return 0;
  }
}

std::string to_case(std::string text, bool upper) {
  for (auto& c : text) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

// Applies a naming action to a current target name; returns nullopt for non-naming actions.
std::optional<std::string> rename(const TableMapping::Rule& rule, const std::string& name) {
  const auto& a = rule.action;
  if (a == "rename") return rule.value;
  if (a == "add-prefix") return rule.value + name;
  if (a == "add-suffix") return name + rule.value;
  if (a == "remove-prefix") {
    return name.starts_with(rule.value) ? name.substr(rule.value.size()) : name;
  }
  if (a == "remove-suffix") {
    return name.ends_with(rule.value) ? name.substr(0, name.size() - rule.value.size()) : name;
  }
  if (a == "replace-prefix") {
    return name.starts_with(rule.old_value) ? rule.value + name.substr(rule.old_value.size())
                                            : name;
  }
  if (a == "replace-suffix") {
    return name.ends_with(rule.old_value)
               ? name.substr(0, name.size() - rule.old_value.size()) + rule.value
               : name;
  }
  if (a == "convert-lowercase") return to_case(name, false);
  if (a == "convert-uppercase") return to_case(name, true);
  return std::nullopt;
}

bool is_naming_action(const std::string& action) {
  static const std::set<std::string> kNaming{
      "rename",         "add-prefix",     "add-suffix",        "remove-prefix",    "remove-suffix",
      "replace-prefix", "replace-suffix", "convert-lowercase", "convert-uppercase"};
  return kNaming.contains(action);
}

bool locator_matches_table(const TableMapping::Locator& locator, const QualifiedName& name) {
  return wildcard_match(locator.schema, name.schema) && wildcard_match(locator.table, name.table);
}

bool selection_matches(const TableMapping::Rule& rule, const SourceTable& table) {
  const auto& type = rule.locator.table_type;
  if (type == "table" && table.is_view) return false;
  if (type == "view" && !table.is_view) return false;
  if (rule.action == "explicit") {
    return rule.locator.schema == table.name.schema && rule.locator.table == table.name.table;
  }
  return locator_matches_table(rule.locator, table.name);
}

std::string condition_sql(const std::string& column, const TableMapping::FilterCondition& c,
                          const std::string& rule_id) {
  const auto need = [&](const std::optional<std::string>& v, const char* what) {
    if (!v) invalid(rule_id, fmt::format("Filter condition '{}' requires '{}'.", c.op, what));
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
  invalid(rule_id, fmt::format("Unknown filter operator '{}'.", c.op));
}

// Filters AND together; the conditions inside one filter OR together.
std::string filter_sql(const TableMapping::Rule& rule, const SourceTable& table) {
  std::vector<std::string> parts;
  for (const auto& filter : rule.filters) {
    const bool known = std::any_of(table.columns.begin(), table.columns.end(),
                                   [&](const SourceColumn& c) { return c.name == filter.column; });
    if (!known) {
      invalid(rule.id, fmt::format("Filter column '{}' does not exist in table {}.", filter.column,
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

TableMapping::Rule parse_rule(const json& item) {
  if (!item.is_object()) throw MappingError("Error in mapping rules. Each rule must be an object.");
  TableMapping::Rule rule;
  rule.id = text_field(item, "rule-id");
  if (rule.id.empty()) throw MappingError("Error in mapping rules. A rule has no rule-id.");
  rule.type = text_field(item, "rule-type");
  rule.action = text_field(item, "rule-action");
  rule.target = text_field(item, "rule-target");
  rule.value = text_field(item, "value");
  rule.old_value = text_field(item, "old-value");
  rule.load_order = int_field(item, "load-order").value_or(0);
  const auto locator = item.find("object-locator");
  if (locator == item.end() || !locator->is_object())
    invalid(rule.id, "object-locator is required.");
  rule.locator.schema = text_field(*locator, "schema-name");
  rule.locator.table = text_field(*locator, "table-name", "%");
  rule.locator.column = text_field(*locator, "column-name", "%");
  rule.locator.table_type = text_field(*locator, "table-type", "table");
  if (rule.locator.schema.empty()) invalid(rule.id, "object-locator requires schema-name.");

  if (rule.type == "selection") {
    if (rule.action != "include" && rule.action != "exclude" && rule.action != "explicit") {
      invalid(rule.id, fmt::format("Unknown rule-action '{}' for a selection rule.", rule.action));
    }
    if (rule.action == "explicit" && (rule.locator.schema.find('%') != std::string::npos ||
                                      rule.locator.table.find('%') != std::string::npos)) {
      invalid(rule.id, "An explicit selection rule requires exact schema and table names.");
    }
    const auto& type = rule.locator.table_type;
    if (type != "table" && type != "view" && type != "all") {
      invalid(rule.id, fmt::format("Unknown table-type '{}'.", type));
    }
    if (const auto filters = item.find("filters"); filters != item.end() && filters->is_array()) {
      if (!filters->empty() && rule.action != "include") {
        invalid(rule.id, "Filters are allowed only with rule-action include.");
      }
      for (const auto& f : *filters) {
        TableMapping::Filter filter;
        filter.column = text_field(f, "column-name");
        if (filter.column.empty()) invalid(rule.id, "A filter requires column-name.");
        if (const auto conds = f.find("filter-conditions"); conds != f.end() && conds->is_array()) {
          for (const auto& c : *conds) {
            TableMapping::FilterCondition condition;
            condition.op = text_field(c, "filter-operator");
            if (c.contains("value")) condition.value = text_field(c, "value");
            if (c.contains("start-value")) condition.start = text_field(c, "start-value");
            if (c.contains("end-value")) condition.end = text_field(c, "end-value");
            filter.conditions.push_back(std::move(condition));
          }
        }
        rule.filters.push_back(std::move(filter));
      }
    }
  } else if (rule.type == "transformation") {
    static const std::set<std::string> kTargets{"schema", "table", "column", "table-tablespace",
                                                "index-tablespace"};
    if (!kTargets.contains(rule.target)) {
      invalid(rule.id, fmt::format("Unknown rule-target '{}'.", rule.target));
    }
    static const std::set<std::string> kOther{"remove-column", "include-column", "change-data-type",
                                              "define-primary-key"};
    if (!is_naming_action(rule.action) && !kOther.contains(rule.action)) {
      invalid(rule.id, fmt::format("rule-action '{}' is not supported by dms-local.", rule.action));
    }
    const bool needs_value = rule.action == "rename" || rule.action.ends_with("-prefix") ||
                             rule.action.ends_with("-suffix");
    if (needs_value && !item.contains("value")) {
      invalid(rule.id, fmt::format("rule-action '{}' requires 'value'.", rule.action));
    }
    if (rule.action.starts_with("replace-") && !item.contains("old-value")) {
      invalid(rule.id, fmt::format("rule-action '{}' requires 'old-value'.", rule.action));
    }
    if ((rule.action == "remove-column" || rule.action == "include-column" ||
         rule.action == "change-data-type") &&
        rule.target != "column") {
      invalid(rule.id, fmt::format("rule-action '{}' requires rule-target column.", rule.action));
    }
    if (rule.action == "change-data-type") {
      const auto type = item.find("data-type");
      if (type == item.end() || !type->is_object()) {
        invalid(rule.id, "rule-action change-data-type requires 'data-type'.");
      }
      rule.data_type =
          dms_type_to_postgres(text_field(*type, "type"), int_field(*type, "length"),
                               int_field(*type, "precision"), int_field(*type, "scale"));
    }
    if (rule.action == "define-primary-key") {
      const auto def = item.find("primary-key-def");
      if (def == item.end() || !def->is_object() || !def->contains("columns")) {
        invalid(rule.id, "rule-action define-primary-key requires 'primary-key-def.columns'.");
      }
      for (const auto& column : (*def)["columns"])
        rule.primary_key_columns.push_back(scalar_text(column));
    }
  } else if (rule.type == "table-settings") {
    if (rule.locator.schema.find('%') != std::string::npos ||
        rule.locator.table.find('%') != std::string::npos) {
      invalid(rule.id, "Exact schema and table name required when using table settings rule.");
    }
  } else {
    invalid(rule.id, fmt::format("Unknown rule-type '{}'.", rule.type));
  }
  return rule;
}

}  // namespace

TableMapping TableMapping::parse(std::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& error) {
    throw MappingError(fmt::format("Error in mapping rules. Invalid JSON: {}", error.what()));
  }
  if (!document.is_object() || !document.contains("rules") || !document["rules"].is_array()) {
    throw MappingError("Error in mapping rules. The document needs a 'rules' array.");
  }
  TableMapping mapping;
  std::set<std::string> ids;
  for (const auto& item : document["rules"]) {
    auto rule = parse_rule(item);
    if (!ids.insert(rule.id).second) {
      throw MappingError(fmt::format("Error in mapping rules. Duplicate rule-id {}.", rule.id));
    }
    mapping.rules_.push_back(std::move(rule));
  }
  if (std::none_of(mapping.rules_.begin(), mapping.rules_.end(),
                   [](const Rule& r) { return r.type == "selection"; })) {
    throw MappingError("Error in mapping rules. At least one selection rule is required.");
  }
  // Rules apply in rule-id order (numeric ids, as DMS numbers them), whatever the array order.
  std::stable_sort(mapping.rules_.begin(), mapping.rules_.end(), [](const Rule& a, const Rule& b) {
    return rule_number(a.id) < rule_number(b.id);
  });
  return mapping;
}

bool TableMapping::wants_views() const {
  return std::any_of(rules_.begin(), rules_.end(), [](const Rule& r) {
    return r.type == "selection" && r.action != "exclude" && r.locator.table_type != "table";
  });
}

std::vector<TablePlan> TableMapping::plan(const std::vector<SourceTable>& catalog) const {
  std::vector<TablePlan> plans;
  std::map<QualifiedName, QualifiedName> claimed;  // target -> source
  for (const auto& table : catalog) {
    // Included by some include/explicit rule and excluded by none: exclude wins.
    const Rule* include = nullptr;
    bool excluded = false;
    for (const auto& rule : rules_) {
      if (rule.type != "selection" || !selection_matches(rule, table)) continue;
      if (rule.action == "exclude") {
        excluded = true;
      } else if (include == nullptr || rule.load_order > include->load_order) {
        include = &rule;
      }
    }
    if (include == nullptr || excluded) continue;

    TablePlan plan;
    plan.source = table.name;
    plan.target = table.name;
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

    for (const auto& rule : rules_) {
      if (rule.type != "transformation") continue;
      if (rule.target == "schema") {
        if (!wildcard_match(rule.locator.schema, table.name.schema)) continue;
        if (auto name = rename(rule, plan.target.schema)) plan.target.schema = *name;
      } else if (rule.target == "table") {
        if (!locator_matches_table(rule.locator, table.name)) continue;
        if (auto name = rename(rule, plan.target.table)) plan.target.table = *name;
        if (rule.action == "define-primary-key") key = rule.primary_key_columns;
      } else if (rule.target == "column") {
        if (!locator_matches_table(rule.locator, table.name)) continue;
        for (std::size_t i = 0; i < plan.columns.size(); ++i) {
          auto& column = plan.columns[i];
          if (!wildcard_match(rule.locator.column, column.source.name)) continue;
          if (rule.action == "remove-column") {
            removed[i] = true;
          } else if (rule.action == "include-column") {
            has_include_column = true;
            kept_explicitly[i] = true;
          } else if (rule.action == "change-data-type") {
            column.target_type = *rule.data_type;
          } else if (auto name = rename(rule, column.target_name)) {
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

std::string dms_type_to_postgres(std::string_view type, std::optional<int> length,
                                 std::optional<int> precision, std::optional<int> scale) {
  const std::string t = to_case(std::string(type), false);
  if (t == "boolean") return "boolean";
  if (t == "blob" || t == "bytes") return "bytea";
  if (t == "date") return "date";
  if (t == "time") return "time";
  if (t == "datetime")
    return scale ? fmt::format("timestamp({})", std::min(*scale, 6)) : "timestamp";
  if (t == "int1" || t == "int2" || t == "uint1") return "smallint";
  if (t == "int4" || t == "uint2") return "integer";
  if (t == "int8" || t == "uint4" || t == "uint8") return "bigint";
  if (t == "numeric") {
    if (precision) return fmt::format("numeric({},{})", *precision, scale.value_or(0));
    return "numeric";
  }
  if (t == "real4") return "real";
  if (t == "real8") return "double precision";
  if (t == "string" || t == "wstring") {
    const int n = length.value_or(65535);
    return fmt::format("character varying({})", n <= 21845 ? n : 65535);
  }
  if (t == "clob" || t == "nclob") return "text";
  throw MappingError(fmt::format("Error in mapping rules. Unsupported data-type '{}'.", type));
}

}  // namespace dagster_dms::replicate
