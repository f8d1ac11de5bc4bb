#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/parallel_load.hpp"
#include "mapping/qualified_name.hpp"

namespace dagster_dms::mapping {

// A table-mapping document DMS would reject, with DMS's wording where it has one.
class MappingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a source object is, when the caller knows: table statistics don't say whether a name is a
// table or a view, so a selection rule's table-type is not held against such a name.
enum class ObjectKind { kTable, kView, kUnknown };

// A parsed `{"rules": [...]}` document: selection rules (with filters) and transformation rules,
// in rule-id order. Of table-settings rules (exact names only), `parallel-load` is acted upon.
class TableMapping {
 public:
  // Throws MappingError for malformed JSON, unknown rule types/actions and missing fields.
  static TableMapping parse(std::string_view json);

  struct Locator {
    std::string schema = "%";
    std::string table = "%";
    std::string column = "%";
    std::string table_type = "table";
  };
  struct FilterCondition {
    std::string op;
    std::optional<std::string> value, start, end;
  };
  struct Filter {
    std::string column;
    std::vector<FilterCondition> conditions;
  };
  struct Rule {
    std::string id;
    std::string type;    // selection | transformation | table-settings
    std::string target;  // transformation: schema | table | column | ...
    std::string action;
    Locator locator;
    std::string value, old_value;
    std::optional<std::string> data_type;
    std::vector<std::string> primary_key_columns;
    std::vector<Filter> filters;
    int load_order = 0;
    std::optional<ParallelLoad> parallel_load;  // table-settings
  };

  // Whether any selection rule could select a view (table-type `view` or `all`).
  [[nodiscard]] bool wants_views() const;

  // The include or explicit rule that selects `source` (the one with the highest load-order), or
  // nullptr when none does or an exclude rule matches it: exclude wins.
  [[nodiscard]] const Rule* selecting_rule(const QualifiedName& source, ObjectKind kind) const;

  // Where `source` lands: its schema and table name after every schema and table transformation
  // rule that matches it, applied in rule-id order.
  [[nodiscard]] QualifiedName target_of(const QualifiedName& source) const;

  // How `source` is split for its full load: the last table-settings rule naming it that has a
  // parallel-load section, or nullptr (loaded in one piece).
  [[nodiscard]] const ParallelLoad* parallel_load_of(const QualifiedName& source) const;

  [[nodiscard]] const std::vector<Rule>& rules() const { return rules_; }

 private:
  std::vector<Rule> rules_;
};

// A naming action (rename, add/remove/replace prefix or suffix, convert case) applied to a name;
// nullopt when the rule's action doesn't name things.
std::optional<std::string> apply_naming_action(const TableMapping::Rule& rule,
                                               const std::string& name);

// Throws the MappingError DMS gives for a rule that fails validation.
[[noreturn]] void throw_rule_error(const std::string& rule_id, std::string_view detail);

// Whether a table locator (schema and table patterns) matches a name.
bool locator_matches_table(const TableMapping::Locator& locator, const QualifiedName& name);

// DMS data type (`change-data-type`) -> PostgreSQL type, as the DMS PostgreSQL target maps it.
std::string dms_type_to_postgres(std::string_view type, std::optional<int> length,
                                 std::optional<int> precision, std::optional<int> scale);

}  // namespace dagster_dms::mapping
