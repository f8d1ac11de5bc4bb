#pragma once

#include <string>
#include <vector>

#include "mapping/parallel_load.hpp"
#include "replicate/pg_connection.hpp"
#include "replicate/table_mapping.hpp"

namespace dagster_dms::replicate {

using mapping::ParallelLoad;

// One segment of a table (table-settings `parallel-load`): rows read and loaded on their own,
// on a connection pair and in a target transaction of their own.
struct LoadSegment {
  std::string name;                    // for the task log: "Segment 2", a partition's name
  std::vector<QualifiedName> sources;  // what is read: the table, or some of its partitions
  std::string condition;               // ranges: which rows; empty: every row of `sources`
};

// A partition of a partitioned source table.
struct SourcePartition {
  QualifiedName name;
  int level = 1;  // 1: a partition of the table itself; 2: a partition of a partition...
  bool leaf = true;
};

// The `ranges` segments of `plan`, in DMS's reading: segment i holds the rows at or above
// boundary i-1 and below boundary i, comparing the columns in order (a row comparison); the
// last holds the rows at or above the last boundary. A row with NULL in a compared range
// column belongs to no segment and is not loaded, as in DMS. Throws MappingError for a column
// the plan has not or one DMS refuses as a range column (floating point, LOB types).
std::vector<LoadSegment> range_segments(const TablePlan& plan, const ParallelLoad& rule);

// The partition segments of `plan` given its `partitions`: partitions-auto one per partition
// of the table, subpartitions-auto one per leaf partition, partitions-list one per listed
// partition and one more holding the partitions not listed. A table without partitions is one
// segment. Throws MappingError naming a listed partition the table does not have.
std::vector<LoadSegment> partition_segments(const TablePlan& plan, const ParallelLoad& rule,
                                            const std::vector<SourcePartition>& partitions);

// The partitions of `table` on the source, by level then name; empty when not partitioned.
std::vector<SourcePartition> read_partitions(PgConnection& source, const QualifiedName& table);

// `plan`'s segments per `rule`; reads the source's partitions when the rule is about them.
// Empty for type `none` (the table loads in one piece).
std::vector<LoadSegment> plan_segments(const TablePlan& plan, const ParallelLoad& rule,
                                       PgConnection& source);

// `COPY (...) TO STDOUT` of one segment: copy_out_sql's query, narrowed to the segment.
std::string segment_copy_out_sql(const TablePlan& plan, const LoadSegment& segment, bool for_files);

}  // namespace dagster_dms::replicate
