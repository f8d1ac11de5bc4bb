#include "replicate/batch_apply.hpp"

#include <fmt/format.h>

#include <cstring>

#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {

void TextArray::add(const char* value) {
  if (closed_) {
    text_.pop_back();
    closed_ = false;
  }
  text_ += text_.empty() ? '{' : ',';
  if (value == nullptr) {
    text_ += "NULL";
    return;
  }
  // Quoted, so no element text (empty, NULL, braces, commas, spaces) is read as syntax.
  text_ += '"';
  for (const char* c = value; *c != '\0'; ++c) {
    if (*c == '"' || *c == '\\') text_ += '\\';
    text_ += *c;
  }
  text_ += '"';
}

const char* TextArray::finish() {
  if (!closed_) {
    if (text_.empty()) text_ += '{';
    text_ += '}';
    closed_ = true;
  }
  return text_.c_str();
}

void TextArray::clear() {
  text_.clear();
  closed_ = false;
}

namespace {

// `unnest($first::text[], ...) AS u(c1, ...)`: positional aliases, so no column name can clash
// with another or with SQL.
std::string unnest_from(std::size_t count) {
  std::string arrays, aliases;
  for (std::size_t i = 1; i <= count; ++i) {
    arrays += fmt::format("{}${}::text[]", i == 1 ? "" : ", ", i);
    aliases += fmt::format("{}c{}", i == 1 ? "" : ", ", i);
  }
  return fmt::format("unnest({}) AS u({})", arrays, aliases);
}

std::string cast_alias(std::size_t position, const RunColumn& column) {
  return fmt::format("u.c{}::{}", position, column.type);
}

// `t.k1 = u.cN::type AND ...` for the key columns at parameters first, first + 1, ...
std::string key_match(const std::vector<RunColumn>& keys, std::size_t first) {
  std::string sql;
  for (const auto& key : keys) {
    sql += fmt::format("{}t.{} = {}", sql.empty() ? "" : " AND ", quote_ident(key.name),
                       cast_alias(first++, key));
  }
  return sql;
}

}  // namespace

std::string insert_run_sql(const QualifiedName& table, const std::vector<RunColumn>& columns) {
  std::string names, values;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    names += fmt::format("{}{}", i == 0 ? "" : ", ", quote_ident(columns[i].name));
    values += fmt::format("{}{}", i == 0 ? "" : ", ", cast_alias(i + 1, columns[i]));
  }
  return fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", quote_qualified(table), names, values,
                     unnest_from(columns.size()));
}

std::string update_run_sql(const QualifiedName& table, const std::vector<RunColumn>& sets,
                           const std::vector<RunColumn>& keys) {
  std::string assignments;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    assignments += fmt::format("{}{} = {}", i == 0 ? "" : ", ", quote_ident(sets[i].name),
                               cast_alias(i + 1, sets[i]));
  }
  return fmt::format("UPDATE {} AS t SET {} FROM {} WHERE {}", quote_qualified(table), assignments,
                     unnest_from(sets.size() + keys.size()), key_match(keys, sets.size() + 1));
}

std::string delete_run_sql(const QualifiedName& table, const std::vector<RunColumn>& keys) {
  return fmt::format("DELETE FROM {} AS t USING {} WHERE {}", quote_qualified(table),
                     unnest_from(keys.size()), key_match(keys, 1));
}

std::string copy_run_sql(const QualifiedName& table, const std::vector<std::string>& columns) {
  std::string names;
  for (const auto& column : columns) {
    names += fmt::format("{}{}", names.empty() ? "" : ", ", quote_ident(column));
  }
  return fmt::format("COPY {} ({}) FROM STDIN", quote_qualified(table), names);
}

void append_copy_text_row(std::string& line, const std::vector<const char*>& values) {
  bool first = true;
  for (const char* value : values) {
    if (!first) line += '\t';
    first = false;
    if (value == nullptr) {
      line += "\\N";
      continue;
    }
    for (const char* c = value; *c != '\0'; ++c) {
      switch (*c) {
        case '\\':
          line += "\\\\";
          break;
        case '\t':
          line += "\\t";
          break;
        case '\n':
          line += "\\n";
          break;
        case '\r':
          line += "\\r";
          break;
        default:
          line += *c;
      }
    }
  }
  line += '\n';
}

void ChangeRun::start(std::string shape, std::size_t columns) {
  clear();
  shape_ = std::move(shape);
  columns_.resize(columns);
}

void ChangeRun::add(const std::vector<const char*>& values) {
  for (std::size_t i = 0; i < columns_.size() && i < values.size(); ++i) {
    columns_[i].add(values[i]);
    bytes_ += values[i] == nullptr ? 4 : std::strlen(values[i]) + 3;
  }
  ++rows_;
}

bool ChangeRun::remember_key(const std::vector<const char*>& key) {
  // Length-prefixed, so no two different keys share a text.
  std::string text;
  for (const char* value : key) {
    if (value == nullptr) {
      text += "n;";
    } else {
      text += fmt::format("{}:{};", std::strlen(value), value);
    }
  }
  return keys_.insert(std::move(text)).second;
}

std::vector<const char*> ChangeRun::parameters() {
  std::vector<const char*> out;
  out.reserve(columns_.size());
  for (auto& column : columns_) out.push_back(column.finish());
  return out;
}

void ChangeRun::clear() {
  for (auto& column : columns_) column.clear();
  keys_.clear();
  rows_ = 0;
  bytes_ = 0;
}

}  // namespace dagster_dms::replicate
