// Pure logic of the full-load engine: load plans from table mappings, DDL, COPY text and CSV.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "replicate/copy_text.hpp"
#include "replicate/csv_writer.hpp"
#include "replicate/ddl.hpp"
#include "replicate/table_mapping.hpp"
#include "replicate/task_settings.hpp"
#include "replicate/task_settings_defaults.hpp"

namespace rep = dagster_dms::replicate;

namespace {

rep::SourceTable table(std::string schema, std::string name, bool with_key = true) {
  rep::SourceTable t;
  t.name = {std::move(schema), std::move(name)};
  t.columns = {{"id", "bigint", true, false, false, rep::ValueKind::kOther},
               {"Name", "character varying(20)", false, false, false, rep::ValueKind::kOther},
               {"secret", "text", false, false, false, rep::ValueKind::kOther}};
  if (with_key) t.primary_key = {"id"};
  t.estimated_rows = 10;
  return t;
}

std::vector<rep::TablePlan> plan(const std::string& json, const std::vector<rep::SourceTable>& c) {
  return rep::plan_tables(rep::TableMapping::parse(json), c);
}

const char* kSelectAll =
    R"({"rule-type":"selection","rule-id":"1","rule-name":"1",)"
    R"("object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"})";

}  // namespace

TEST(TableMapping, IncludeThenExcludeExcludeWins) {
  const auto plans =
      plan(std::string(R"({"rules":[)") + kSelectAll +
               R"(,{"rule-type":"selection","rule-id":"2","rule-name":"2",
      "object-locator":{"schema-name":"public","table-name":"DMS%"},"rule-action":"exclude"}]})",
           {table("public", "DMS_a"), table("public", "orders"), table("sales", "DMS_b")});
  ASSERT_EQ(plans.size(), 2U);
  EXPECT_EQ(plans[0].source.table, "orders");
  EXPECT_EQ(plans[1].source, (rep::QualifiedName{"sales", "DMS_b"}));
}

TEST(TableMapping, ViewsOnlyWhenAsked) {
  auto view = table("public", "v");
  view.is_view = true;
  EXPECT_TRUE(plan(std::string(R"({"rules":[)") + kSelectAll + "]}", {view}).empty());
  const auto mapping = rep::TableMapping::parse(
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":
      {"schema-name":"%","table-name":"%","table-type":"all"},"rule-action":"include"}]})");
  EXPECT_TRUE(mapping.wants_views());
  EXPECT_EQ(rep::plan_tables(mapping, {view}).size(), 1U);
}

TEST(TableMapping, LoadOrderHigherFirst) {
  const auto plans = plan(R"({"rules":[
    {"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":
     {"schema-name":"s","table-name":"a"},"rule-action":"include","load-order":"1"},
    {"rule-type":"selection","rule-id":"2","rule-name":"2","object-locator":
     {"schema-name":"s","table-name":"b"},"rule-action":"include","load-order":"5"}]})",
                          {table("s", "a"), table("s", "b")});
  ASSERT_EQ(plans.size(), 2U);
  EXPECT_EQ(plans[0].source.table, "b");
}

TEST(TableMapping, TransformationsRenameCaseAffixesAndRemoveColumn) {
  const auto plans = plan(std::string(R"({"rules":[)") + kSelectAll + R"(,
    {"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema",
     "object-locator":{"schema-name":"public"},"rule-action":"rename","value":"dw"},
    {"rule-type":"transformation","rule-id":"3","rule-name":"3","rule-target":"table",
     "object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"add-suffix","value":"_v1"},
    {"rule-type":"transformation","rule-id":"4","rule-name":"4","rule-target":"table",
     "object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"convert-uppercase"},
    {"rule-type":"transformation","rule-id":"5","rule-name":"5","rule-target":"column",
     "object-locator":{"schema-name":"%","table-name":"%","column-name":"sec%"},
     "rule-action":"remove-column"},
    {"rule-type":"transformation","rule-id":"6","rule-name":"6","rule-target":"column",
     "object-locator":{"schema-name":"%","table-name":"%","column-name":"%"},
     "rule-action":"convert-lowercase"},
    {"rule-type":"transformation","rule-id":"7","rule-name":"7","rule-target":"column",
     "object-locator":{"schema-name":"%","table-name":"%","column-name":"id"},
     "rule-action":"add-prefix","value":"pk_"}]})",
                          {table("public", "orders")});
  ASSERT_EQ(plans.size(), 1U);
  const auto& p = plans[0];
  EXPECT_EQ(p.target, (rep::QualifiedName{"dw", "ORDERS_V1"}));
  ASSERT_EQ(p.columns.size(), 2U);
  EXPECT_EQ(p.columns[0].target_name, "pk_id");
  EXPECT_EQ(p.columns[1].target_name, "name");
  EXPECT_EQ(p.primary_key, std::vector<std::string>{"pk_id"});
}

TEST(TableMapping, RemovingAKeyColumnDropsTheKey) {
  const auto plans = plan(std::string(R"({"rules":[)") + kSelectAll + R"(,
    {"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"column",
     "object-locator":{"schema-name":"%","table-name":"%","column-name":"id"},
     "rule-action":"remove-column"}]})",
                          {table("public", "t")});
  EXPECT_TRUE(plans.at(0).primary_key.empty());
}

TEST(TableMapping, FiltersBecomeAWhereClause) {
  const auto plans = plan(R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",
    "object-locator":{"schema-name":"public","table-name":"t"},"rule-action":"include",
    "filters":[{"filter-type":"source","column-name":"id","filter-conditions":[
      {"filter-operator":"gte","value":"10"},{"filter-operator":"eq","value":"o'k"}]},
      {"filter-type":"source","column-name":"Name","filter-conditions":[
      {"filter-operator":"between","start-value":"a","end-value":"m"}]}]}]})",
                          {table("public", "t")});
  EXPECT_EQ(plans.at(0).source_filter,
            R"(("id" >= '10' OR "id" = 'o''k') AND ("Name" BETWEEN 'a' AND 'm'))");
  EXPECT_NE(rep::copy_out_sql(plans[0], false).find(" WHERE (\"id\" >= '10'"), std::string::npos);
}

TEST(TableMapping, ErrorsInDmsWords) {
  EXPECT_THROW(rep::TableMapping::parse("{"), rep::MappingError);
  EXPECT_THROW(rep::TableMapping::parse(R"({"rules":[]})"), rep::MappingError);
  try {
    rep::TableMapping::parse(R"({"rules":[{"rule-type":"selection","rule-id":"9",
      "object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"grab"}]})");
    FAIL() << "accepted an unknown action";
  } catch (const rep::MappingError& error) {
    EXPECT_EQ(std::string(error.what())
                  .rfind("Error in mapping rules. Rule with ruleId = 9 failed validation.", 0),
              0U);
  }
  EXPECT_THROW(rep::TableMapping::parse(std::string(R"({"rules":[)") + kSelectAll + R"(,
    {"rule-type":"table-settings","rule-id":"2","rule-name":"2",
     "object-locator":{"schema-name":"s","table-name":"%"}}]})"),
               rep::MappingError);
  // Two sources into one target.
  EXPECT_THROW(plan(std::string(R"({"rules":[)") + kSelectAll + R"(,
    {"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"schema",
     "object-locator":{"schema-name":"%"},"rule-action":"rename","value":"one"}]})",
                    {table("a", "t"), table("b", "t")}),
               rep::MappingError);
}

TEST(TableMapping, UserDefinedTypesBecomeVarchar) {
  auto t = table("public", "t");
  t.columns.push_back({"mood", "mood", false, true, false, rep::ValueKind::kOther});
  t.columns.push_back({"moods", "mood[]", false, true, true, rep::ValueKind::kOther});
  const auto plans = plan(std::string(R"({"rules":[)") + kSelectAll + "]}", {t});
  EXPECT_EQ(plans.at(0).columns.at(3).target_type, "character varying");
  EXPECT_EQ(plans.at(0).columns.at(4).target_type, "character varying[]");
}

TEST(Ddl, CreateTableWithTypesNotNullAndKey) {
  const auto plans =
      plan(std::string(R"({"rules":[)") + kSelectAll + "]}", {table("my schema", "Or\"ders")});
  EXPECT_EQ(rep::create_table_sql(plans.at(0)),
            R"(CREATE TABLE "my schema"."Or""ders" ("id" bigint NOT NULL, )"
            R"("Name" character varying(20), "secret" text, PRIMARY KEY ("id")))");
  EXPECT_EQ(rep::copy_in_sql(plans[0]),
            R"(COPY "my schema"."Or""ders" ("id", "Name", "secret") FROM STDIN)");
  EXPECT_EQ(rep::copy_out_sql(plans[0], false),
            R"(COPY (SELECT "id", "Name", "secret" FROM "my schema"."Or""ders") TO STDOUT)");
  EXPECT_EQ(rep::drop_table_sql({"s", "t"}), R"(DROP TABLE IF EXISTS "s"."t")");
  EXPECT_EQ(rep::quote_literal("it's"), "'it''s'");
}

TEST(CopyText, DecodesEscapesAndNulls) {
  const auto fields = rep::decode_copy_text_row("1\t\\N\ta\\tb\\nc\\\\d\t\t\\x41\\101\t\\N\n");
  ASSERT_EQ(fields.size(), 6U);
  EXPECT_EQ(*fields[0], "1");
  EXPECT_FALSE(fields[1].has_value());
  EXPECT_EQ(*fields[2], "a\tb\nc\\d");
  EXPECT_EQ(*fields[3], "");
  EXPECT_EQ(*fields[4], "AA");
  EXPECT_FALSE(fields[5].has_value());
  EXPECT_THROW(rep::decode_copy_text_row("a\\"), std::invalid_argument);
}

TEST(Csv, DmsDefaultQuotingAndNulls) {
  const rep::CsvFormat format;
  EXPECT_EQ(
      rep::encode_csv_row({"1", "Jones, Ann", std::nullopt, "", "say \"hi\"", "a\nb"}, format),
      "1,\"Jones, Ann\",,,\"say \"\"hi\"\"\",\"a\nb\"\n");
  rep::CsvFormat custom;
  custom.delimiter = "|";
  custom.null_value = "NULL";
  EXPECT_EQ(rep::encode_csv_row({"a,b", std::nullopt, "c|d"}, custom), "a,b|NULL|\"c|d\"\n");
  EXPECT_EQ(rep::load_file_name(1), "LOAD00000001.csv");
  EXPECT_EQ(rep::load_file_name(10), "LOAD0000000A.csv");
  EXPECT_EQ(rep::load_file_name(16), "LOAD00000010.csv");
}

TEST(Csv, RollsOverAtMaxFileSizeWithoutSplittingRows) {
  const auto folder =
      std::filesystem::temp_directory_path() /
      ("replicate_csv_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
  std::filesystem::remove_all(folder);
  const auto root = rep::ConfinedDirectory::open_root(folder);
  {
    rep::LoadFileWriter writer(root, {"t"}, rep::CsvFormat{}, 10, {"a"});
    for (int i = 0; i < 5; ++i) writer.write_row({"1234"});  // 5 bytes a row: 2 rows a file
    writer.finish();
    ASSERT_EQ(writer.files().size(), 3U);
    EXPECT_EQ(writer.files()[2].filename(), "LOAD00000003.csv");
  }
  std::ifstream first(folder / "t" / "LOAD00000001.csv");
  std::stringstream text;
  text << first.rdbuf();
  EXPECT_EQ(text.str(), "1234\n1234\n");
  EXPECT_EQ(rep::next_load_index(root, {"t"}), 4U);
  rep::remove_load_files(root, {"t"});
  EXPECT_EQ(rep::next_load_index(root, {"t"}), 1U);
  {
    rep::LoadFileWriter abandoned(root, {"u"}, rep::CsvFormat{}, 100, {"a"});
    abandoned.write_row({"x"});
  }  // not finished: nothing published, no temporary left
  EXPECT_TRUE(std::filesystem::is_empty(folder / "u"));
  std::filesystem::remove_all(folder);
}

TEST(TaskSettings, DefaultsAndOverrides) {
  const auto defaults = rep::parse_full_load_settings("");
  EXPECT_EQ(defaults.prep_mode, rep::TablePrepMode::kDropAndCreate);
  EXPECT_EQ(defaults.max_subtasks, 8);
  EXPECT_TRUE(defaults.fail_on_no_tables);
  const auto s = rep::parse_full_load_settings(
      R"({"FullLoadSettings":{"TargetTablePrepMode":"TRUNCATE_BEFORE_LOAD","MaxFullLoadSubTasks":3},
          "ErrorBehavior":{"TableErrorPolicy":"STOP_TASK","FailOnNoTablesCaptured":false}})");
  EXPECT_EQ(s.prep_mode, rep::TablePrepMode::kTruncateBeforeLoad);
  EXPECT_EQ(s.max_subtasks, 3);
  EXPECT_TRUE(s.stop_task_on_table_error);
  EXPECT_FALSE(s.fail_on_no_tables);
  EXPECT_THROW(rep::parse_full_load_settings(R"({"FullLoadSettings":{"MaxFullLoadSubTasks":50}})"),
               std::invalid_argument);
  EXPECT_THROW(
      rep::parse_full_load_settings(R"({"FullLoadSettings":{"TargetTablePrepMode":"WIPE"}})"),
      std::invalid_argument);
}

TEST(TaskSettings, ANullMemberOrSectionKeepsTheDefault) {
  // As the control plane completes a stored document (a null keeps DMS's default), so does the
  // engine, from the same defaults.
  const auto s = rep::parse_full_load_settings(
      R"({"FullLoadSettings":{"MaxFullLoadSubTasks":null,"TargetTablePrepMode":null},
          "ErrorBehavior":{"RecoverableErrorInterval":null},"TargetMetadata":null})");
  EXPECT_EQ(s.max_subtasks, 8);
  EXPECT_EQ(s.prep_mode, rep::TablePrepMode::kDropAndCreate);
  EXPECT_EQ(s.recoverable.interval, std::chrono::seconds(5));
  EXPECT_EQ(s.load_max_file_kb, 0U);
  EXPECT_EQ(rep::with_default_task_settings(nlohmann::json::object()),
            rep::default_task_settings());
}

TEST(TaskSettings, StopAfterTheLoad) {
  EXPECT_EQ(rep::parse_full_load_settings("").stop_after_load, rep::StopAfterLoad::kNo);
  EXPECT_EQ(rep::parse_full_load_settings(
                R"({"FullLoadSettings":{"StopTaskCachedChangesNotApplied":true}})")
                .stop_after_load,
            rep::StopAfterLoad::kCachedChangesNotApplied);
  // Both set: the changes are applied rather than thrown away.
  EXPECT_EQ(rep::parse_full_load_settings(
                R"({"FullLoadSettings":{"StopTaskCachedChangesNotApplied":true,
                    "StopTaskCachedChangesApplied":true}})")
                .stop_after_load,
            rep::StopAfterLoad::kCachedChangesApplied);
}
