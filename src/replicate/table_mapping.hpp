#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/catalog.hpp"

namespace dagster_dms::replicate {

// A table-mapping document DMS would reject, with DMS's wording where it has one.
class MappingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MappedColumn {
  SourceColumn source;
  std::string target_name;
  std::string target_type;  // the type to create on a database target
};

// One selected table: what to read, where to write it, and how.
struct TablePlan {
  QualifiedName source;
  QualifiedName target;
  std::vector<MappedColumn> columns;
  std::vector<std::string> primary_key;  // target column names; empty when the key is gone
  std::string source_filter;             // SQL condition from selection filters; empty: all rows
  int load_order = 0;
  double estimated_rows = -1;
};

// A parsed `{"rules": [...]}` document: selection rules (with filters) and transformation rules.
// table-settings rules are validated (exact names) but otherwise not acted upon.
class TableMapping {
 public:
  // Throws MappingError for malformed JSON, unknown rule types/actions and missing fields.
  static TableMapping parse(std::string_view json);

  // Whether any selection rule could select a view (table-type `view` or `all`).
  [[nodiscard]] bool wants_views() const;

  // The selected tables, in load order (higher load-order first, then by name). Throws
  // MappingError when two source tables would land in one target table.
  [[nodiscard]] std::vector<TablePlan> plan(const std::vector<SourceTable>& catalog) const;

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
  };

 private:
  std::vector<Rule> rules_;
};

// DMS data type (`change-data-type`) -> PostgreSQL type, as the DMS PostgreSQL target maps it.
std::string dms_type_to_postgres(std::string_view type, std::optional<int> length,
                                 std::optional<int> precision, std::optional<int> scale);

}  // namespace dagster_dms::replicate
