#include "replicate/copy_text.hpp"

#include <stdexcept>

namespace dagster_dms::replicate {
namespace {

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<std::optional<std::string>> decode_copy_text_row(std::string_view row) {
  if (!row.empty() && row.back() == '\n') row.remove_suffix(1);
  if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
  std::vector<std::optional<std::string>> fields;
  std::string field;
  bool raw_null = false;  // the field so far is exactly `\N`
  for (std::size_t i = 0; i <= row.size(); ++i) {
    if (i == row.size() || row[i] == '\t') {
      if (raw_null) {
        fields.emplace_back(std::nullopt);
      } else {
        fields.emplace_back(std::move(field));
      }
      field.clear();
      raw_null = false;
      continue;
    }
    const char c = row[i];
    if (raw_null) {
      // `\N` followed by more text is not NULL (PostgreSQL never writes this; be exact anyway).
      field += 'N';
      raw_null = false;
    }
    if (c != '\\') {
      field += c;
      raw_null = false;
      continue;
    }
    if (i + 1 >= row.size()) throw std::invalid_argument("COPY row ends with a lone backslash");
    const char e = row[++i];
    const bool field_start = field.empty() && (i < 2 || row[i - 2] == '\t');
    switch (e) {
      case 'N':
        // `\N` alone is NULL; PostgreSQL never writes it inside a longer value.
        raw_null = field_start;
        if (!raw_null) field += 'N';
        continue;
      case 't':
        field += '\t';
        break;
      case 'n':
        field += '\n';
        break;
      case 'r':
        field += '\r';
        break;
      case 'b':
        field += '\b';
        break;
      case 'f':
        field += '\f';
        break;
      case 'v':
        field += '\v';
        break;
      case 'x': {
        int value = 0, digits = 0;
        while (digits < 2 && i + 1 < row.size() && hex_value(row[i + 1]) >= 0) {
          value = value * 16 + hex_value(row[++i]);
          ++digits;
        }
        if (digits == 0) {
          field += 'x';
        } else {
          field += static_cast<char>(value);
        }
        break;
      }
      default:
        if (is_octal(e)) {
          int value = e - '0', digits = 1;
          while (digits < 3 && i + 1 < row.size() && is_octal(row[i + 1])) {
            value = value * 8 + (row[++i] - '0');
            ++digits;
          }
          field += static_cast<char>(value);
        } else {
          field += e;  // `\\` and any other escaped character stand for themselves
        }
    }
    raw_null = false;
  }
  return fields;
}

}  // namespace dagster_dms::replicate
