#include "mapping/table_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "mapping/wildcard.hpp"

namespace dagster_dms::mapping {
namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& rule_id, std::string_view detail) {
  throw_rule_error(rule_id, detail);
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

}  // namespace

std::optional<std::string> apply_naming_action(const TableMapping::Rule& rule,
                                               const std::string& name) {
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

void throw_rule_error(const std::string& rule_id, std::string_view detail) {
  throw MappingError(fmt::format(
      "Error in mapping rules. Rule with ruleId = {} failed validation. {}", rule_id, detail));
}

bool locator_matches_table(const TableMapping::Locator& locator, const QualifiedName& name) {
  return wildcard_match(locator.schema, name.schema) && wildcard_match(locator.table, name.table);
}

namespace {

bool is_naming_action(const std::string& action) {
  static const std::set<std::string> kNaming{
      "rename",         "add-prefix",     "add-suffix",        "remove-prefix",    "remove-suffix",
      "replace-prefix", "replace-suffix", "convert-lowercase", "convert-uppercase"};
  return kNaming.contains(action);
}

bool selection_matches(const TableMapping::Rule& rule, const QualifiedName& name, ObjectKind kind) {
  const auto& type = rule.locator.table_type;
  if (type == "table" && kind == ObjectKind::kView) return false;
  if (type == "view" && kind == ObjectKind::kTable) return false;
  if (rule.action == "explicit") {
    return rule.locator.schema == name.schema && rule.locator.table == name.table;
  }
  return locator_matches_table(rule.locator, name);
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
    if (const auto section = item.find("parallel-load"); section != item.end()) {
      rule.parallel_load = parse_parallel_load(rule.id, *section);
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

const TableMapping::Rule* TableMapping::selecting_rule(const QualifiedName& source,
                                                       ObjectKind kind) const {
  const Rule* include = nullptr;
  for (const auto& rule : rules_) {
    if (rule.type != "selection" || !selection_matches(rule, source, kind)) continue;
    if (rule.action == "exclude") return nullptr;
    if (include == nullptr || rule.load_order > include->load_order) include = &rule;
  }
  return include;
}

QualifiedName TableMapping::target_of(const QualifiedName& source) const {
  QualifiedName target = source;
  for (const auto& rule : rules_) {
    if (rule.type != "transformation") continue;
    if (rule.target == "schema" && wildcard_match(rule.locator.schema, source.schema)) {
      if (auto name = apply_naming_action(rule, target.schema)) target.schema = *name;
    } else if (rule.target == "table" && locator_matches_table(rule.locator, source)) {
      if (auto name = apply_naming_action(rule, target.table)) target.table = *name;
    }
  }
  return target;
}

const ParallelLoad* TableMapping::parallel_load_of(const QualifiedName& source) const {
  const ParallelLoad* found = nullptr;
  for (const auto& rule : rules_) {
    if (rule.type == "table-settings" && rule.parallel_load &&
        rule.locator.schema == source.schema && rule.locator.table == source.table) {
      found = &*rule.parallel_load;
    }
  }
  return found;
}

bool TableMapping::wants_views() const {
  return std::any_of(rules_.begin(), rules_.end(), [](const Rule& r) {
    return r.type == "selection" && r.action != "exclude" && r.locator.table_type != "table";
  });
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

}  // namespace dagster_dms::mapping
