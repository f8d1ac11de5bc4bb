#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dagster_dms::mapping {

// A table-settings rule's `parallel-load` section: how one table is split into segments that
// are loaded at the same time (at most MaxFullLoadSubTasks at once, like whole tables).
struct ParallelLoad {
  enum class Type { kNone, kRanges, kPartitionsAuto, kSubpartitionsAuto, kPartitionsList };
  Type type = Type::kNone;
  // ranges: the columns (at most 10) and the segments' upper bounds, one value per column each;
  // there is one segment more than there are boundaries.
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> boundaries;
  // partitions-list: the partitions loaded each as a segment of their own.
  std::vector<std::string> partitions;
};

std::string_view parallel_load_type_name(ParallelLoad::Type type);

// The `parallel-load` member of table-settings rule `rule_id`. Throws MappingError in DMS's
// words ("Error in mapping rules. Rule with ruleId = ... failed validation. ...") when it is
// malformed.
ParallelLoad parse_parallel_load(const std::string& rule_id, const nlohmann::json& section);

}  // namespace dagster_dms::mapping
