#include "replicate/parallel_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {

namespace {

// DMS refuses DOUBLE, FLOAT and the LOB types as range columns; these are their PostgreSQL
// sources (text, json and xml arrive in DMS as NCLOB, bytea as BLOB).
constexpr std::array<std::string_view, 7> kRefusedRangeTypes{
    "real", "double precision", "bytea", "text", "json", "jsonb", "xml"};

std::string row_of(const std::vector<std::string>& values, bool literals) {
  std::vector<std::string> quoted;
  for (const auto& value : values) {
    quoted.push_back(literals ? quote_literal(value) : quote_ident(value));
  }
  return fmt::format("({})", fmt::join(quoted, ", "));
}

void check_range_columns(const TablePlan& plan, const std::vector<std::string>& columns) {
  for (const auto& name : columns) {
    const auto column =
        std::find_if(plan.columns.begin(), plan.columns.end(),
                     [&](const MappedColumn& mapped) { return mapped.source.name == name; });
    if (column == plan.columns.end()) {
      throw MappingError(fmt::format(
          "Error in mapping rules. parallel-load column '{}' is not a column of table {}.", name,
          plan.source.display()));
    }
    const auto& type = column->source.type;
    if (column->source.is_array || std::find(kRefusedRangeTypes.begin(), kRefusedRangeTypes.end(),
                                             type) != kRefusedRangeTypes.end()) {
      throw MappingError(fmt::format(
          "Error in mapping rules. parallel-load column '{}' of table {} has type {}, which "
          "can't split ranges (floating-point and LOB columns can't); choose another column.",
          name, plan.source.display(), type));
    }
  }
}

}  // namespace

std::vector<LoadSegment> range_segments(const TablePlan& plan, const ParallelLoad& rule) {
  check_range_columns(plan, rule.columns);
  const auto columns = row_of(rule.columns, false);
  std::vector<LoadSegment> out;
  const std::size_t count = rule.boundaries.size() + 1;
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<std::string> bounds;
    if (i > 0)
      bounds.push_back(fmt::format("{} >= {}", columns, row_of(rule.boundaries[i - 1], true)));
    if (i + 1 < count)
      bounds.push_back(fmt::format("{} < {}", columns, row_of(rule.boundaries[i], true)));
    out.push_back({fmt::format("Segment {}", i + 1),
                   {plan.source},
                   fmt::format("{}", fmt::join(bounds, " AND "))});
  }
  return out;
}

std::vector<LoadSegment> partition_segments(const TablePlan& plan, const ParallelLoad& rule,
                                            const std::vector<SourcePartition>& partitions) {
  const auto top_level = [](const SourcePartition& p) { return p.level == 1; };
  std::vector<LoadSegment> out;
  const auto one_each = [&](const auto& keep) {
    for (const auto& partition : partitions) {
      if (keep(partition)) out.push_back({partition.name.display(), {partition.name}, {}});
    }
  };
  switch (rule.type) {
    case ParallelLoad::Type::kPartitionsAuto:
      one_each(top_level);
      break;
    case ParallelLoad::Type::kSubpartitionsAuto:
      one_each([](const SourcePartition& p) { return p.leaf; });
      break;
    case ParallelLoad::Type::kPartitionsList: {
      std::vector<QualifiedName> listed;
      for (const auto& name : rule.partitions) {
        const auto found =
            std::find_if(partitions.begin(), partitions.end(), [&](const SourcePartition& p) {
              return top_level(p) &&
                     (p.name.table == name || p.name.schema + "." + p.name.table == name);
            });
        if (found == partitions.end()) {
          throw MappingError(fmt::format(
              "Error in mapping rules. parallel-load partition '{}' is not a partition of "
              "table {}.",
              name, plan.source.display()));
        }
        out.push_back({found->name.display(), {found->name}, {}});
        listed.push_back(found->name);
      }
      // Rows in partitions not listed are loaded too, together, so that none is lost.
      LoadSegment rest{"Partitions not listed", {}, {}};
      for (const auto& partition : partitions) {
        if (top_level(partition) &&
            std::find(listed.begin(), listed.end(), partition.name) == listed.end()) {
          rest.sources.push_back(partition.name);
        }
      }
      if (!rest.sources.empty()) out.push_back(std::move(rest));
      break;
    }
    case ParallelLoad::Type::kRanges:
    case ParallelLoad::Type::kNone:
      break;
  }
  if (out.empty()) out.push_back({plan.source.display(), {plan.source}, {}});
  return out;
}

std::vector<SourcePartition> read_partitions(PgConnection& source, const QualifiedName& table) {
  // pg_inherits rather than pg_partition_tree, which PostgreSQL before 12 lacks.
  const auto rows = source.exec_params(
      "WITH RECURSIVE tree AS ("
      " SELECT i.inhrelid AS relid, 1 AS level FROM pg_inherits i WHERE i.inhparent = "
      "$1::regclass"
      " UNION ALL SELECT i.inhrelid, t.level + 1 FROM pg_inherits i JOIN tree t ON "
      "i.inhparent = t.relid) "
      "SELECT n.nspname, c.relname, t.level, c.relkind <> 'p' FROM tree t JOIN pg_class c ON "
      "c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relispartition "
      "ORDER BY t.level, n.nspname, c.relname",
      {quote_qualified(table)});
  std::vector<SourcePartition> out;
  for (int row = 0; row < PQntuples(rows.get()); ++row) {
    SourcePartition partition;
    partition.name = {PQgetvalue(rows.get(), row, 0), PQgetvalue(rows.get(), row, 1)};
    partition.level = std::stoi(PQgetvalue(rows.get(), row, 2));
    partition.leaf = std::string_view(PQgetvalue(rows.get(), row, 3)) == "t";
    out.push_back(std::move(partition));
  }
  return out;
}

std::vector<LoadSegment> plan_segments(const TablePlan& plan, const ParallelLoad& rule,
                                       PgConnection& source) {
  switch (rule.type) {
    case ParallelLoad::Type::kNone:
      return {};
    case ParallelLoad::Type::kRanges:
      return range_segments(plan, rule);
    case ParallelLoad::Type::kPartitionsAuto:
    case ParallelLoad::Type::kSubpartitionsAuto:
    case ParallelLoad::Type::kPartitionsList:
      return partition_segments(plan, rule, read_partitions(source, plan.source));
  }
  return {};
}

std::string segment_copy_out_sql(const TablePlan& plan, const LoadSegment& segment,
                                 bool for_files) {
  std::vector<std::string> selects;
  for (const auto& source : segment.sources) {
    TablePlan part = plan;
    part.source = source;
    if (!segment.condition.empty()) {
      part.source_filter =
          plan.source_filter.empty()
              ? segment.condition
              : fmt::format("({}) AND ({})", plan.source_filter, segment.condition);
    }
    selects.push_back(select_sql(part, for_files));
  }
  return fmt::format("COPY ({}) TO STDOUT", fmt::join(selects, " UNION ALL "));
}

}  // namespace dagster_dms::replicate
