// DMS table-mapping semantics in the core: wildcards, selection, transformation rules, and which
// target tables a task writes (what the component and dmsctl see without the source database).
#include "mapping/table_mapping.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mapping/table_resolution.hpp"
#include "mapping/wildcard.hpp"

namespace map = dagster_dms::mapping;

namespace {

std::string selection(const std::string& id, const std::string& action, const std::string& schema,
                      const std::string& table) {
  return R"({"rule-type":"selection","rule-id":")" + id + R"(","rule-name":")" + id +
         R"(","object-locator":{"schema-name":")" + schema + R"(","table-name":")" + table +
         R"("},"rule-action":")" + action + R"("})";
}

std::string transformation(const std::string& id, const std::string& target,
                           const std::string& action, const std::string& schema,
                           const std::string& table, const std::string& value = "") {
  std::string locator = R"({"schema-name":")" + schema + "\"";
  if (target != "schema") locator += R"(,"table-name":")" + table + "\"";
  locator += "}";
  return R"({"rule-type":"transformation","rule-id":")" + id + R"(","rule-name":")" + id +
         R"(","rule-target":")" + target + R"(","object-locator":)" + locator +
         R"(,"rule-action":")" + action + R"(","value":")" + value + R"("})";
}

map::TableMapping mapping(const std::vector<std::string>& rules) {
  std::string json = R"({"rules":[)";
  for (std::size_t i = 0; i < rules.size(); ++i) json += (i ? "," : "") + rules[i];
  return map::TableMapping::parse(json + "]}");
}

std::vector<std::string> targets(const map::TableResolution& resolution) {
  std::vector<std::string> out;
  for (const auto& t : resolution.tables) {
    out.push_back(t.source.schema + "." + t.source.table + "->" + t.target.schema + "." +
                  t.target.table);
  }
  return out;
}

}  // namespace

TEST(Wildcard, PercentUnderscoreAndClasses) {
  EXPECT_TRUE(map::wildcard_match("%", ""));
  EXPECT_TRUE(map::wildcard_match("%", "anything"));
  EXPECT_TRUE(map::wildcard_match("DMS%", "DMS_table"));
  EXPECT_FALSE(map::wildcard_match("DMS%", "dms_table"));  // case-sensitive
  EXPECT_TRUE(map::wildcard_match("t_b", "tab"));
  EXPECT_FALSE(map::wildcard_match("t_b", "tb"));
  EXPECT_TRUE(map::wildcard_match("tmp[_]%", "tmp_x"));
  EXPECT_FALSE(map::wildcard_match("tmp[_]%", "tmpx"));
  EXPECT_TRUE(map::wildcard_match("t[a-c]1", "tb1"));
  EXPECT_FALSE(map::wildcard_match("t[a-c]1", "td1"));
  EXPECT_TRUE(map::wildcard_match("t[xy]", "ty"));
  EXPECT_TRUE(map::wildcard_match("%a%b%", "xxaxxbxx"));
  EXPECT_FALSE(map::wildcard_match("%a%b", "xxbxxa"));
  EXPECT_TRUE(map::wildcard_match("[abc", "[abc"));  // an unclosed bracket is literal
}

TEST(Wildcard, OnlyPercentAndClassesNameUnlistedTables) {
  EXPECT_FALSE(map::names_unlisted_tables("order_items"));
  EXPECT_TRUE(map::names_unlisted_tables("order%"));
  EXPECT_TRUE(map::names_unlisted_tables("t[ab]"));
}

TEST(DmsTypes, PostgresTargetTypes) {
  EXPECT_EQ(map::dms_type_to_postgres("int8", {}, {}, {}), "bigint");
  EXPECT_EQ(map::dms_type_to_postgres("string", 30, {}, {}), "character varying(30)");
  EXPECT_EQ(map::dms_type_to_postgres("string", 50000, {}, {}), "character varying(65535)");
  EXPECT_EQ(map::dms_type_to_postgres("numeric", {}, 10, 2), "numeric(10,2)");
  EXPECT_THROW(map::dms_type_to_postgres("nonsense", {}, {}, {}), map::MappingError);
}

TEST(TableResolution, ExactNamesAreKnownWithoutStatistics) {
  const auto resolved =
      map::resolve_tables(mapping({selection("1", "include", "sales", "orders"),
                                   selection("2", "explicit", "sales", "order_items")}),
                          {});
  EXPECT_EQ(targets(resolved), (std::vector<std::string>{"sales.order_items->sales.order_items",
                                                         "sales.orders->sales.orders"}));
  EXPECT_TRUE(resolved.unresolved_rule_ids.empty());
}

TEST(TableResolution, WildcardRulesWaitForTableStatistics) {
  const auto rules = mapping({selection("1", "include", "public", "%")});
  const auto before = map::resolve_tables(rules, {});
  EXPECT_TRUE(before.tables.empty());
  EXPECT_EQ(before.unresolved_rule_ids, std::vector<std::string>{"1"});

  const auto after = map::resolve_tables(rules, {{"public", "a"}, {"public", "b"}, {"other", "c"}});
  EXPECT_EQ(targets(after), (std::vector<std::string>{"public.a->public.a", "public.b->public.b"}));
  EXPECT_TRUE(after.unresolved_rule_ids.empty());
}

TEST(TableResolution, ExcludeWinsOverIncludeAndOverExactNames) {
  const auto resolved = map::resolve_tables(
      mapping({selection("1", "include", "%", "%"), selection("2", "include", "s", "kept"),
               selection("3", "include", "s", "tmp_x"), selection("4", "exclude", "%", "tmp%")}),
      {{"s", "tmp_y"}, {"s", "other"}});
  EXPECT_EQ(targets(resolved), (std::vector<std::string>{"s.kept->s.kept", "s.other->s.other"}));
}

TEST(TableResolution, TransformationRulesRenameInRuleIdOrder) {
  const auto resolved = map::resolve_tables(
      mapping({selection("1", "include", "src", "orders"),
               selection("2", "include", "src", "Items"),
               transformation("3", "schema", "rename", "src", "", "warehouse"),
               transformation("4", "table", "add-prefix", "src", "%", "raw_"),
               transformation("5", "table", "convert-lowercase", "src", "Items"),
               transformation("6", "table", "add-suffix", "src", "orders", "_v2"),
               transformation("7", "table", "remove-prefix", "src", "orders", "raw_")}),
      {});
  EXPECT_EQ(targets(resolved), (std::vector<std::string>{"src.Items->warehouse.raw_items",
                                                         "src.orders->warehouse.orders_v2"}));
}

TEST(TableResolution, UppercaseAndSuffixRemoval) {
  const auto resolved = map::resolve_tables(
      mapping({selection("1", "include", "app", "%"),
               transformation("2", "schema", "convert-uppercase", "app", ""),
               transformation("3", "table", "remove-suffix", "app", "%", "_tmp")}),
      {{"app", "events_tmp"}});
  EXPECT_EQ(targets(resolved), std::vector<std::string>{"app.events_tmp->APP.events"});
}

TEST(TableResolution, ViewOnlyRulesStillMatchStatisticsNames) {
  // Statistics don't say whether a name is a table or a view, so table-type can't exclude it.
  const auto rules = map::TableMapping::parse(
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","rule-action":"include",
          "object-locator":{"schema-name":"s","table-name":"v%","table-type":"view"}}]})");
  EXPECT_EQ(targets(map::resolve_tables(rules, {{"s", "v1"}})),
            std::vector<std::string>{"s.v1->s.v1"});
  EXPECT_EQ(rules.selecting_rule({"s", "v1"}, map::ObjectKind::kTable), nullptr);
  EXPECT_NE(rules.selecting_rule({"s", "v1"}, map::ObjectKind::kView), nullptr);
}
