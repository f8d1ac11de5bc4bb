#pragma once

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

#include "replicate/catalog.hpp"

namespace dagster_dms::replicate {

// Set-based apply: a run of changes of one kind, shape and table reaches a PostgreSQL target as
// one statement instead of one per row. Each column's values travel as one text[] parameter
// that the statement unnests and casts to the column's type, so the target plans and executes
// one statement per run; the per-row work of the SQL executor (bind, portal, result message)
// is what bounded the row-by-row apply (bench/cdc_findings.md). Within a run rows keep their
// order; runs are sent in stream order, so the target sees the same end state. While a backlog
// waits, a run of inserts streams into the target with COPY instead, row by row as the changes
// are decoded: the target's cheapest way in, and it works while dms-local reads on.

// The values of one column of a run, as the text of a PostgreSQL text[] literal.
class TextArray {
 public:
  // Appends one element; nullptr is SQL NULL.
  void add(const char* value);
  // The literal so far, closed; valid until the next add() or clear().
  const char* finish();
  void clear();
  [[nodiscard]] std::size_t bytes() const { return text_.size(); }

 private:
  std::string text_;
  bool closed_ = false;
};

// A column a run statement writes or matches: the target column and its type as format_type()
// prints it without a type modifier (the assignment to the column then applies the modifier,
// as an INSERT of a text parameter would: a value too long for varchar(n) fails, it is not cut).
struct RunColumn {
  std::string name;
  std::string type;
};

// INSERT INTO table (c...) SELECT $1's elements cast, ... FROM unnest($1::text[], ...).
std::string insert_run_sql(const QualifiedName& table, const std::vector<RunColumn>& columns);
// UPDATE table SET c = new value, ... FROM unnest(...) WHERE key = old key: the parameters are
// the set columns, then the key columns. The rows of a run must have distinct keys.
std::string update_run_sql(const QualifiedName& table, const std::vector<RunColumn>& sets,
                           const std::vector<RunColumn>& keys);
// DELETE FROM table USING unnest(...) WHERE key = the key: one parameter per key column.
std::string delete_run_sql(const QualifiedName& table, const std::vector<RunColumn>& keys);

// COPY table (c...) FROM STDIN, in COPY's text format.
std::string copy_run_sql(const QualifiedName& table, const std::vector<std::string>& columns);
// Appends one row in COPY's text format to `line`: fields separated by tabs, `\N` for NULL
// (nullptr), backslash, tab, newline and carriage return escaped, a newline at the end.
void append_copy_text_row(std::string& line, const std::vector<const char*>& values);

// The changes of one run, column by column, waiting to be sent as one statement.
class ChangeRun {
 public:
  // Starts a run of `shape` with `columns` parameters, dropping what the run held.
  void start(std::string shape, std::size_t columns);
  // Whether a change of `shape` may join this run (the caller keeps runs to one table).
  [[nodiscard]] bool continues(const std::string& shape) const {
    return rows_ > 0 && shape == shape_;
  }
  // Appends one row: a value for each column, in order.
  void add(const std::vector<const char*>& values);
  // Remembers a key of an update; false when the run holds it already (an UPDATE ... FROM would
  // apply only one of two changes to one row).
  bool remember_key(const std::vector<const char*>& key);
  // The statement's parameters: one closed text[] literal per column.
  [[nodiscard]] std::vector<const char*> parameters();
  void clear();

  [[nodiscard]] std::size_t rows() const { return rows_; }
  [[nodiscard]] std::size_t bytes() const { return bytes_; }
  [[nodiscard]] const std::string& shape() const { return shape_; }

 private:
  std::string shape_;
  std::vector<TextArray> columns_;
  std::unordered_set<std::string> keys_;
  std::size_t rows_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace dagster_dms::replicate
