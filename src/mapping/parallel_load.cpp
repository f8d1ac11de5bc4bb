#include "mapping/parallel_load.hpp"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "mapping/table_mapping.hpp"

namespace dagster_dms::mapping {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxRangeColumns = 10;

constexpr std::array<std::pair<std::string_view, ParallelLoad::Type>, 5> kTypes{{
    {"none", ParallelLoad::Type::kNone},
    {"ranges", ParallelLoad::Type::kRanges},
    {"partitions-auto", ParallelLoad::Type::kPartitionsAuto},
    {"subpartitions-auto", ParallelLoad::Type::kSubpartitionsAuto},
    {"partitions-list", ParallelLoad::Type::kPartitionsList},
}};

// Boundary values are strings in DMS's examples; numbers are accepted as written.
std::optional<std::string> value_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) return value.dump();
  return std::nullopt;
}

std::vector<std::string> names(const std::string& rule_id, const json& section, const char* key,
                               std::string_view what) {
  const auto found = section.find(key);
  if (found == section.end() || !found->is_array() || found->empty()) {
    throw_rule_error(rule_id, fmt::format("parallel-load requires '{}': {}.", key, what));
  }
  std::vector<std::string> out;
  for (const auto& item : *found) {
    if (!item.is_string() || item.get<std::string>().empty()) {
      throw_rule_error(rule_id, fmt::format("parallel-load '{}' must hold non-empty names.", key));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

void parse_ranges(const std::string& rule_id, const json& section, ParallelLoad& out) {
  out.columns = names(rule_id, section, "columns", "the columns whose values split the table");
  if (out.columns.size() > kMaxRangeColumns) {
    throw_rule_error(
        rule_id, fmt::format("parallel-load ranges allow at most {} columns.", kMaxRangeColumns));
  }
  const auto boundaries = section.find("boundaries");
  if (boundaries == section.end() || !boundaries->is_array() || boundaries->empty()) {
    throw_rule_error(rule_id,
                     "parallel-load requires 'boundaries': an array of upper bounds, each an "
                     "array with one value per column.");
  }
  for (const auto& boundary : *boundaries) {
    if (!boundary.is_array() || boundary.size() != out.columns.size()) {
      throw_rule_error(rule_id, fmt::format("Each parallel-load boundary needs one value per "
                                            "column ({}), in the order of 'columns'.",
                                            out.columns.size()));
    }
    std::vector<std::string> values;
    for (const auto& value : boundary) {
      auto text = value_text(value);
      if (!text) {
        throw_rule_error(rule_id, "parallel-load boundary values must be strings or numbers.");
      }
      values.push_back(std::move(*text));
    }
    out.boundaries.push_back(std::move(values));
  }
}

}  // namespace

std::string_view parallel_load_type_name(ParallelLoad::Type type) {
  for (const auto& [name, value] : kTypes) {
    if (value == type) return name;
  }
  return "none";
}

ParallelLoad parse_parallel_load(const std::string& rule_id, const json& section) {
  if (!section.is_object()) throw_rule_error(rule_id, "parallel-load must be an object.");
  const auto type = section.find("type");
  const std::string name =
      type != section.end() && type->is_string() ? type->get<std::string>() : std::string();
  ParallelLoad out;
  bool known = false;
  for (const auto& [candidate, value] : kTypes) {
    if (candidate == name) {
      out.type = value;
      known = true;
    }
  }
  if (!known) {
    throw_rule_error(rule_id, fmt::format("Unknown parallel-load type '{}'. Use partitions-auto, "
                                          "subpartitions-auto, partitions-list, ranges or none.",
                                          name));
  }
  if (out.type == ParallelLoad::Type::kRanges) parse_ranges(rule_id, section, out);
  if (out.type == ParallelLoad::Type::kPartitionsList) {
    out.partitions = names(rule_id, section, "partitions", "the names of the partitions to load");
  }
  return out;
}

}  // namespace dagster_dms::mapping
