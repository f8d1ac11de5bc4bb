#include "output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace dagster_dms::dmsctl {

OutputFormat parse_output_format(std::string_view name) {
  if (name == "json") return OutputFormat::kJson;
  if (name == "table") return OutputFormat::kTable;
  throw std::invalid_argument(fmt::format("unknown output format '{}'", name));
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::print(std::FILE* out) const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t i = 0; i < headers_.size(); ++i) widths[i] = headers_[i].size();
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      // No padding after the last column: trailing blanks only get in the way of grep and diff.
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    fmt::print(out, "{}\n", line);
  };
  print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

void Details::add(std::string field, std::string value) {
  if (value.empty()) return;
  rows_.emplace_back(std::move(field), std::move(value));
}

void Details::add(std::string field, const std::optional<std::string>& value) {
  if (value) add(std::move(field), *value);
}

void Details::print(std::FILE* out) const {
  std::size_t width = 0;
  for (const auto& [field, value] : rows_) width = std::max(width, field.size());
  for (const auto& [field, value] : rows_) {
    fmt::print(out, "{:<{}}  {}\n", field, width, value);
  }
}

void print_json(const nlohmann::json& document, std::FILE* out) {
  // Log messages and server strings may hold invalid UTF-8; replace it rather than fail.
  fmt::print(out, "{}\n", document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string cell(const std::optional<std::string>& value) {
  return value && !value->empty() ? *value : "-";
}

std::string cell(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : "-";
}

std::string cell(const std::optional<bool>& value) {
  if (!value) return "-";
  return *value ? "yes" : "no";
}

std::string cell(const std::optional<dms::Timestamp>& value) {
  return value ? dms::format_iso8601(*value) : "-";
}

nlohmann::json json_time(dms::Timestamp value) {
  return dms::timestamp_to_json(value);
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool blank = false;
  for (char c : text) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space) {
      if (!blank && !out.empty()) out += ' ';
      blank = true;
    } else {
      out += c;
      blank = false;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace dagster_dms::dmsctl
