// table-settings `parallel-load`: the rule's validation (DMS's wording) and how a table is cut
// into segments (ranges, partitions-auto, subpartitions-auto, partitions-list).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapping/table_mapping.hpp"
#include "replicate/parallel_load.hpp"

namespace rep = dagster_dms::replicate;
namespace map = dagster_dms::mapping;

namespace {

map::TableMapping mapping_with(const std::string& parallel_load,
                               const std::string& table = "orders") {
  return map::TableMapping::parse(
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",)"
      R"("object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"},)"
      R"({"rule-type":"table-settings","rule-id":"2","rule-name":"2",)"
      R"("object-locator":{"schema-name":"public","table-name":")" +
      table + R"("},"parallel-load":)" + parallel_load + "}]}");
}

std::string rejection(const std::string& parallel_load, const std::string& table = "orders") {
  try {
    mapping_with(parallel_load, table);
  } catch (const map::MappingError& error) {
    return error.what();
  }
  return "accepted";
}

rep::TablePlan orders() {
  rep::TablePlan plan;
  plan.source = {"public", "orders"};
  plan.target = {"public", "orders"};
  for (const auto& [name, type] :
       std::vector<std::pair<std::string, std::string>>{{"id", "bigint"},
                                                        {"region", "character varying(8)"},
                                                        {"ratio", "double precision"},
                                                        {"note", "text"}}) {
    rep::MappedColumn column;
    column.source.name = name;
    column.source.type = type;
    column.target_name = name;
    column.target_type = type;
    plan.columns.push_back(column);
  }
  return plan;
}

map::ParallelLoad rule_of(const std::string& parallel_load) {
  return *mapping_with(parallel_load).parallel_load_of({"public", "orders"});
}

std::vector<std::string> conditions(const std::vector<rep::LoadSegment>& segments) {
  std::vector<std::string> out;
  for (const auto& segment : segments) out.push_back(segment.condition);
  return out;
}

std::vector<std::string> names(const std::vector<rep::LoadSegment>& segments) {
  std::vector<std::string> out;
  for (const auto& segment : segments) {
    std::string sources;
    for (const auto& source : segment.sources)
      sources += (sources.empty() ? "" : "+") + source.table;
    out.push_back(sources);
  }
  return out;
}

const std::vector<rep::SourcePartition> kPartitions{
    {{"public", "orders_2023"}, 1, true},    {{"public", "orders_2024"}, 1, false},
    {{"public", "orders_default"}, 1, true}, {{"public", "orders_2024_h1"}, 2, true},
    {{"public", "orders_2024_h2"}, 2, true},
};

}  // namespace

TEST(ParallelLoadRule, ParsesEachTypeForItsExactTable) {
  EXPECT_EQ(rule_of(R"({"type":"partitions-auto"})").type,
            map::ParallelLoad::Type::kPartitionsAuto);
  EXPECT_EQ(rule_of(R"({"type":"none"})").type, map::ParallelLoad::Type::kNone);
  const auto ranges = rule_of(R"({"type":"ranges","columns":["id"],"boundaries":[["10"],[20]]})");
  EXPECT_EQ(ranges.columns, std::vector<std::string>{"id"});
  EXPECT_EQ(ranges.boundaries, (std::vector<std::vector<std::string>>{{"10"}, {"20"}}));
  const auto list = rule_of(R"({"type":"partitions-list","partitions":["orders_2023"]})");
  EXPECT_EQ(list.partitions, std::vector<std::string>{"orders_2023"});
  const auto mapping = mapping_with(R"({"type":"partitions-auto"})");
  EXPECT_EQ(mapping.parallel_load_of({"public", "other"}), nullptr);
}

TEST(ParallelLoadRule, RejectsMalformedRulesInDmsWords) {
  EXPECT_EQ(rejection(R"({"type":"partitions-auto"})", "ord%"),
            "Error in mapping rules. Rule with ruleId = 2 failed validation. Exact schema and "
            "table name required when using table settings rule.");
  EXPECT_NE(rejection(R"({"type":"hash"})").find("Unknown parallel-load type 'hash'"),
            std::string::npos);
  EXPECT_NE(rejection(R"({"type":"ranges","boundaries":[["1"]]})").find("requires 'columns'"),
            std::string::npos);
  EXPECT_NE(rejection(R"({"type":"ranges","columns":["id"]})").find("requires 'boundaries'"),
            std::string::npos);
  EXPECT_NE(rejection(R"({"type":"ranges","columns":["id","region"],"boundaries":[["1"]]})")
                .find("one value per column (2)"),
            std::string::npos);
  EXPECT_NE(rejection(R"({"type":"ranges","columns":["a","b","c","d","e","f","g","h","i","j",)"
                      R"("k"],"boundaries":[["1"]]})")
                .find("at most 10 columns"),
            std::string::npos);
  EXPECT_NE(rejection(R"({"type":"partitions-list"})").find("requires 'partitions'"),
            std::string::npos);
  EXPECT_NE(rejection(R"({"type":"ranges","columns":["id"],"boundaries":[[null]]})")
                .find("strings or numbers"),
            std::string::npos);
  EXPECT_NE(rejection(R"("ranges")").find("must be an object"), std::string::npos);
}

TEST(RangeSegments, OneMoreSegmentThanBoundariesComparingRows) {
  const auto segments =
      rep::range_segments(orders(), rule_of(R"({"type":"ranges","columns":["id","region"],)"
                                            R"("boundaries":[["100","m"],["200","a"]]})"));
  EXPECT_EQ(conditions(segments),
            (std::vector<std::string>{
                R"(("id", "region") < ('100', 'm'))",
                R"(("id", "region") >= ('100', 'm') AND ("id", "region") < ('200', 'a'))",
                R"(("id", "region") >= ('200', 'a'))"}));
  EXPECT_EQ(segments[1].name, "Segment 2");
  EXPECT_EQ(names(segments), (std::vector<std::string>{"orders", "orders", "orders"}));
}

TEST(RangeSegments, RefusesColumnsDmsCannotSplitOn) {
  const auto refused = [](const std::string& column) {
    try {
      rep::range_segments(orders(), rule_of(R"({"type":"ranges","columns":[")" + column +
                                            R"("],"boundaries":[["1"]]})"));
    } catch (const map::MappingError& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refused("ratio").find("has type double precision"), std::string::npos);
  EXPECT_NE(refused("note").find("has type text"), std::string::npos);
  EXPECT_NE(refused("missing").find("'missing' is not a column of table"), std::string::npos);
  EXPECT_EQ(refused("region"), "accepted");
}

TEST(PartitionSegments, AutoTakesEachPartitionSubpartitionsEachLeaf) {
  EXPECT_EQ(names(rep::partition_segments(orders(), rule_of(R"({"type":"partitions-auto"})"),
                                          kPartitions)),
            (std::vector<std::string>{"orders_2023", "orders_2024", "orders_default"}));
  EXPECT_EQ(names(rep::partition_segments(orders(), rule_of(R"({"type":"subpartitions-auto"})"),
                                          kPartitions)),
            (std::vector<std::string>{"orders_2023", "orders_default", "orders_2024_h1",
                                      "orders_2024_h2"}));
  // A table that is not partitioned loads in one segment.
  EXPECT_EQ(names(rep::partition_segments(orders(), rule_of(R"({"type":"partitions-auto"})"), {})),
            std::vector<std::string>{"orders"});
}

TEST(PartitionSegments, ListLoadsTheRestTogetherAndRefusesUnknownNames) {
  EXPECT_EQ(names(rep::partition_segments(
                orders(), rule_of(R"({"type":"partitions-list","partitions":["orders_2024"]})"),
                kPartitions)),
            (std::vector<std::string>{"orders_2024", "orders_2023+orders_default"}));
  EXPECT_EQ(names(rep::partition_segments(
                orders(),
                rule_of(R"({"type":"partitions-list","partitions":["public.orders_default",)"
                        R"("orders_2023","orders_2024"]})"),
                kPartitions)),
            (std::vector<std::string>{"orders_default", "orders_2023", "orders_2024"}));
  try {
    rep::partition_segments(
        orders(), rule_of(R"({"type":"partitions-list","partitions":["orders_2024_h1"]})"),
        kPartitions);
    FAIL() << "a sub-partition is not a partition of the table";
  } catch (const map::MappingError& error) {
    EXPECT_NE(std::string(error.what()).find("'orders_2024_h1' is not a partition of table"),
              std::string::npos);
  }
}

TEST(SegmentCopy, NarrowsTheTablesQueryToTheSegment) {
  auto plan = orders();
  plan.columns.resize(2);
  plan.source_filter = R"(("region" = 'eu'))";
  const rep::LoadSegment range{"Segment 1", {plan.source}, R"(("id") < ('5'))"};
  EXPECT_EQ(rep::segment_copy_out_sql(plan, range, false),
            R"(COPY (SELECT "id", "region" FROM "public"."orders" WHERE (("region" = 'eu')) AND )"
            R"((("id") < ('5'))) TO STDOUT)");
  plan.source_filter.clear();
  const rep::LoadSegment rest{"rest", {{"public", "a"}, {"public", "b"}}, ""};
  EXPECT_EQ(rep::segment_copy_out_sql(plan, rest, false),
            R"(COPY (SELECT "id", "region" FROM "public"."a" UNION ALL SELECT "id", "region" FROM )"
            R"("public"."b") TO STDOUT)");
}
