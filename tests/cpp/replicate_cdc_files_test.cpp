// Pure logic of CDC to s3-style files and of column DDL: file names, Op rows, value rendering,
// batching and replay, shape diffs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "replicate/cdc_file_writer.hpp"
#include "replicate/ddl.hpp"
#include "replicate/s3_path.hpp"
#include "replicate/schema_change.hpp"
#include "replicate/task_settings.hpp"

namespace rep = dagster_dms::replicate;
namespace pgo = dagster_dms::replicate::pgoutput;

namespace {

// 2026-12-06 01:02:03.456789 UTC in PostgreSQL's microseconds since 2000.
constexpr std::int64_t kCommitTime = 849834123456789;

pgo::TupleValue text(std::string value) {
  return {pgo::ValueKind::kText, std::move(value)};
}
pgo::TupleValue null() {
  return {pgo::ValueKind::kNull, {}};
}

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::filesystem::path> csv_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> out;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CdcFileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("cdc_files_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    target_.root = root_;
    target_.bucket = "lake";
    target_.folder = "cdc";
    target_.cdc_max_batch_interval_seconds = 3600;
    rep::TablePlan plan;
    plan.source = {"app", "emp"};
    plan.target = {"app", "emp"};
    for (const char* name : {"id", "name", "hired"}) {
      rep::MappedColumn column;
      column.source.name = name;
      column.target_name = name;
      column.target_type = "text";
      plan.columns.push_back(column);
    }
    plan.primary_key = {"id"};
    plans_.push_back(plan);
    relation_.id = 42;
    relation_.schema = "app";
    relation_.name = "emp";
    relation_.columns = {{true, "id", 23, -1}, {false, "name", 25, -1}, {false, "hired", 16, -1}};
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  [[nodiscard]] std::filesystem::path folder() const {
    return root_ / "lake" / "cdc" / "app" / "emp";
  }

  static pgo::Begin begin(rep::Lsn final_lsn) { return {final_lsn, kCommitTime, 7}; }

  std::filesystem::path root_;
  rep::FileTarget target_;
  std::vector<rep::TablePlan> plans_;
  pgo::Relation relation_;
};

}  // namespace

TEST(CdcFileName, TimestampThenEndPosition) {
  EXPECT_EQ(rep::cdc_file_name(kCommitTime, 0x16B374D848),
            "20261206-010203456-00000016B374D848.csv");
  EXPECT_EQ(rep::cdc_file_name(kCommitTime, 0x10, 2),
            "20261206-010203456-0000000000000010_0002.csv");
  EXPECT_EQ(rep::cdc_file_name(0, 1), "20000101-000000000-0000000000000001.csv");
  // Names sort in change order.
  EXPECT_LT(rep::cdc_file_name(kCommitTime, 0xFF), rep::cdc_file_name(kCommitTime, 0x100));
  EXPECT_LT(rep::cdc_file_name(kCommitTime, 0x100), rep::cdc_file_name(kCommitTime + 1000, 0x1));
  EXPECT_LT(rep::cdc_file_name(kCommitTime, 0x100), rep::cdc_file_name(kCommitTime, 0x100, 2));
}

TEST(CdcFileName, EndPositionIsReadBackFromCdcFilesOnly) {
  EXPECT_EQ(rep::cdc_file_end_lsn("20261206-010203456-00000016B374D848.csv"), 0x16B374D848u);
  EXPECT_EQ(rep::cdc_file_end_lsn(rep::cdc_file_name(kCommitTime, 0xABC, 3)), 0xABCu);
  EXPECT_FALSE(rep::cdc_file_end_lsn("LOAD00000001.csv"));
  EXPECT_FALSE(rep::cdc_file_end_lsn(".20261206-010203456-00000016B374D848.csv.part"));
  EXPECT_FALSE(rep::cdc_file_end_lsn("20261206-010203456-00000016B374D848.csv.tmp"));
  EXPECT_FALSE(rep::cdc_file_end_lsn("20261206-010203456-0000016B374D848Z.csv"));
  EXPECT_FALSE(rep::cdc_file_end_lsn("20261206-010203456-00000016B374D848_x.csv"));
  EXPECT_FALSE(rep::cdc_file_end_lsn("20141029-1134010000.csv"));
}

TEST(CdcFileValue, RendersLikeTheFullLoad) {
  EXPECT_EQ(rep::cdc_file_value(16, "t"), "true");
  EXPECT_EQ(rep::cdc_file_value(16, "f"), "false");
  EXPECT_EQ(rep::cdc_file_value(1114, "2024-03-05 14:10:20"), "2024-03-05 14:10:20.000000");
  EXPECT_EQ(rep::cdc_file_value(1114, "2024-03-05 14:10:20.5"), "2024-03-05 14:10:20.500000");
  EXPECT_EQ(rep::cdc_file_value(1114, "infinity"), "infinity");
  EXPECT_EQ(rep::cdc_file_value(1114, "0044-03-15 00:00:00 BC"), "0044-03-15 00:00:00 BC");
  EXPECT_EQ(rep::cdc_file_value(1184, "2024-03-05 14:10:20.866123+00"),
            "2024-03-05 14:10:20.866123");
  EXPECT_EQ(rep::cdc_file_value(1184, "2024-03-05 01:10:20+05:30"), "2024-03-04 19:40:20.000000");
  EXPECT_EQ(rep::cdc_file_value(1184, "2024-12-31 20:00:00.25-08"), "2025-01-01 04:00:00.250000");
  EXPECT_EQ(rep::cdc_file_value(1184, "-infinity"), "-infinity");
  EXPECT_EQ(rep::cdc_file_value(25, "t"), "t");
  EXPECT_EQ(rep::format_commit_timestamp(kCommitTime), "2026-12-06 01:02:03.456789");
}

TEST(CdcRowPolicy, FollowsTheS3SettingsTable) {
  rep::FileTarget target;
  auto policy = rep::cdc_row_policy(target);
  EXPECT_TRUE(policy.write_op && policy.keep_updates && policy.keep_deletes);
  target.include_op_for_full_load = true;
  policy = rep::cdc_row_policy(target);
  EXPECT_TRUE(policy.write_op && policy.keep_updates && policy.keep_deletes);
  target.cdc_inserts_only = true;
  policy = rep::cdc_row_policy(target);
  EXPECT_TRUE(policy.write_op);
  EXPECT_FALSE(policy.keep_updates || policy.keep_deletes);
  target.include_op_for_full_load = false;
  policy = rep::cdc_row_policy(target);
  EXPECT_FALSE(policy.write_op || policy.keep_updates || policy.keep_deletes);
  target.cdc_inserts_only = false;
  target.cdc_inserts_and_updates = true;
  policy = rep::cdc_row_policy(target);
  EXPECT_FALSE(policy.write_op || policy.keep_deletes);
  EXPECT_TRUE(policy.keep_updates);
}

TEST_F(CdcFileWriterTest, OpRowsWaitForTheBatchThenAppearAtOnce) {
  rep::CdcFileWriter writer(target_, plans_, false);
  ASSERT_EQ(writer.on_relation(relation_), 0u);
  writer.begin(begin(0x100));
  EXPECT_EQ(writer.apply(pgo::Insert{42, {text("1"), text("Smith, J"), text("t")}}), 0u);
  EXPECT_EQ(writer.apply(pgo::Update{42, 0, {}, {text("1"), text("Lee"), null()}}), 0u);
  EXPECT_EQ(writer.apply(pgo::Delete{42, 'K', {text("2"), null(), null()}}), 0u);
  EXPECT_EQ(writer.apply(pgo::Insert{99, {text("x")}}), std::nullopt);  // not selected
  writer.commit(0x110);
  writer.flush(false);
  EXPECT_EQ(writer.durable(), 0u) << "nothing is durable before the batch is written";
  EXPECT_TRUE(csv_files(folder()).empty());

  writer.flush(true);
  EXPECT_EQ(writer.durable(), 0x110u);
  const auto files = csv_files(folder());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename(), rep::cdc_file_name(kCommitTime, 0x110));
  EXPECT_EQ(read(files[0]), "I,1,\"Smith, J\",true\nU,1,Lee,\nD,2,,\n");
}

TEST_F(CdcFileWriterTest, MinFileSizeClosesTheBatchAndAnUncommittedTransactionIsNotWritten) {
  target_.cdc_min_file_size_kb = 1;
  rep::CdcFileWriter writer(target_, plans_, false);
  writer.on_relation(relation_);
  writer.begin(begin(0x100));
  for (int i = 0; i < 200; ++i) writer.apply(pgo::Insert{42, {text(std::to_string(i))}});
  writer.commit(0x200);
  writer.flush(false);
  EXPECT_EQ(writer.durable(), 0x200u);
  ASSERT_EQ(csv_files(folder()).size(), 1u);

  writer.begin(begin(0x300));
  writer.apply(pgo::Insert{42, {text("lost")}});
  writer.rollback();
  writer.flush(true);
  EXPECT_EQ(csv_files(folder()).size(), 1u);
  EXPECT_EQ(writer.durable(), 0x200u);
}

TEST_F(CdcFileWriterTest, SettingsShapeTheRows) {
  target_.csv.add_column_name = true;
  target_.csv.delimiter = "|";
  target_.cdc_inserts_only = true;
  target_.include_op_for_full_load = true;
  target_.timestamp_column_name = "ts";
  rep::CdcFileWriter writer(target_, plans_, false);
  writer.on_relation(relation_);
  writer.begin(begin(0x100));
  writer.apply(pgo::Insert{42, {text("1"), text("a"), text("f")}});
  EXPECT_EQ(writer.apply(pgo::Update{42, 0, {}, {text("1"), text("b"), null()}}), std::nullopt);
  EXPECT_EQ(writer.apply(pgo::Delete{42, 'K', {text("1"), null(), null()}}), std::nullopt);
  writer.commit(0x110);
  writer.flush(true);
  const auto files = csv_files(folder());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(read(files[0]), "Op|id|name|hired|ts\nI|1|a|false|2026-12-06 01:02:03.456789\n");
}

TEST_F(CdcFileWriterTest, ANewColumnStartsANewFileWithinTheBatch) {
  target_.csv.add_column_name = true;
  rep::CdcFileWriter writer(target_, plans_, false);
  writer.on_relation(relation_);
  writer.begin(begin(0x100));
  writer.apply(pgo::Insert{42, {text("1"), text("a"), text("t")}});
  plans_[0].columns.push_back(plans_[0].columns.back());
  plans_[0].columns.back().source.name = plans_[0].columns.back().target_name = "city";
  relation_.columns.push_back({false, "city", 25, -1});
  writer.on_relation(relation_);
  writer.apply(pgo::Insert{42, {text("2"), text("b"), text("f"), text("Oslo")}});
  writer.commit(0x110);
  writer.flush(true);
  const auto files = csv_files(folder());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(read(folder() / rep::cdc_file_name(kCommitTime, 0x110)),
            "Op,id,name,hired\nI,1,a,true\n");
  EXPECT_EQ(read(folder() / rep::cdc_file_name(kCommitTime, 0x110, 2)),
            "Op,id,name,hired,city\nI,2,b,false,Oslo\n");
}

TEST_F(CdcFileWriterTest, AResumedRunLeavesOutWhatTheFilesAlreadyHold) {
  {
    rep::CdcFileWriter writer(target_, plans_, false);
    writer.on_relation(relation_);
    writer.begin(begin(0x100));
    writer.apply(pgo::Insert{42, {text("1")}});
    writer.commit(0x110);
    writer.flush(true);
  }
  // A crash before the checkpoint: the slot sends the transaction again, then a new one.
  rep::CdcFileWriter writer(target_, plans_, true);
  writer.on_relation(relation_);
  writer.begin(begin(0x100));
  writer.apply(pgo::Insert{42, {text("1")}});
  writer.commit(0x110);
  writer.begin(begin(0x120));
  writer.apply(pgo::Insert{42, {text("2")}});
  writer.commit(0x130);
  writer.flush(true);
  EXPECT_EQ(writer.durable(), 0x130u);
  std::string all;
  for (const auto& file : csv_files(folder())) all += read(file);
  EXPECT_EQ(all, "I,1,,\nI,2,,\n");
}

TEST_F(CdcFileWriterTest, TruncateDeletesTheTablesFiles) {
  rep::CdcFileWriter writer(target_, plans_, false);
  writer.on_relation(relation_);
  std::filesystem::create_directories(folder());
  std::ofstream(folder() / "LOAD00000001.csv") << "1,a,true\n";
  writer.begin(begin(0x100));
  writer.apply(pgo::Insert{42, {text("1")}});
  EXPECT_EQ(writer.apply(pgo::Truncate{0, {42, 99}}), std::vector<std::size_t>{0});
  writer.commit(0x110);
  writer.flush(true);
  EXPECT_FALSE(std::filesystem::exists(folder()));
  writer.begin(begin(0x120));
  writer.apply(pgo::Insert{42, {text("2")}});
  writer.commit(0x130);
  writer.flush(true);
  const auto files = csv_files(folder());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(read(files[0]), "I,2,,\n");
}

// A link planted in place of the table's folder during a run: neither a batch nor a truncate goes
// through it, and a new run refuses to start on it.
TEST_F(CdcFileWriterTest, ALinkInPlaceOfTheTableFolderIsNeverFollowed) {
  const auto outside = root_ / "outside";
  std::filesystem::create_directories(outside);
  std::ofstream(outside / "LOAD00000001.csv") << "planted\n";
  std::filesystem::create_directories(folder().parent_path());
  rep::CdcFileWriter writer(target_, plans_, false);
  rep::CdcFileWriter truncating(target_, plans_, false);
  writer.on_relation(relation_);
  truncating.on_relation(relation_);
  std::filesystem::create_directory_symlink(outside, folder());
  writer.begin(begin(0x100));
  writer.apply(pgo::Insert{42, {text("1")}});
  writer.commit(0x110);
  EXPECT_THROW(writer.flush(true), rep::S3PathError);
  EXPECT_EQ(writer.durable(), 0u);  // the slot is never told about the unwritten change
  truncating.begin(begin(0x120));
  truncating.apply(pgo::Truncate{0, {42}});
  truncating.commit(0x130);
  EXPECT_THROW(truncating.flush(true), rep::S3PathError);
  EXPECT_THROW(rep::CdcFileWriter(target_, plans_, true), rep::S3PathError);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(outside)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"LOAD00000001.csv"});
}

TEST(ShapeDiff, AddDropAndTypeChanges) {
  const std::vector<rep::ColumnShape> before{{"id", 23, -1}, {"name", 25, -1}, {"qty", 23, -1}};
  auto change = rep::diff_shapes(before, {{"id", 23, -1}, {"qty", 23, -1}, {"city", 1043, 24}});
  EXPECT_EQ(change.added, std::vector<std::string>{"city"});
  EXPECT_EQ(change.dropped, std::vector<std::string>{"name"});
  EXPECT_TRUE(change.retyped.empty());
  EXPECT_EQ(change.count(), 2u);
  change = rep::diff_shapes(before, {{"id", 20, -1}, {"name", 25, -1}, {"qty", 23, -1}});
  EXPECT_EQ(change.retyped, std::vector<std::string>{"id"});
  EXPECT_TRUE(rep::diff_shapes(before, before).empty());
  // Shapes read from the catalog have no type yet: only names are compared.
  EXPECT_TRUE(rep::diff_shapes({{"id"}, {"name"}, {"qty"}}, before).empty());
}

TEST(ColumnDdl, IdempotentStatements) {
  rep::MappedColumn column;
  column.target_name = "City";
  column.target_type = "character varying(24)";
  EXPECT_EQ(rep::add_column_sql({"app", "emp"}, column),
            R"(ALTER TABLE "app"."emp" ADD COLUMN IF NOT EXISTS "City" character varying(24))");
  EXPECT_EQ(rep::alter_column_type_sql({"app", "emp"}, column),
            R"(ALTER TABLE "app"."emp" ALTER COLUMN "City" TYPE character varying(24) USING )"
            R"("City"::character varying(24))");
  EXPECT_EQ(rep::drop_column_sql({"app", "emp"}, "old"),
            R"(ALTER TABLE "app"."emp" DROP COLUMN IF EXISTS "old")");
}

TEST(TaskSettings, DdlHandlingPolicy) {
  auto settings = rep::parse_full_load_settings("");
  EXPECT_TRUE(settings.handle_source_table_altered && settings.handle_source_table_truncated);
  settings = rep::parse_full_load_settings(
      R"({"ChangeProcessingDdlHandlingPolicy":{"HandleSourceTableAltered":false}})");
  EXPECT_FALSE(settings.handle_source_table_altered);
  EXPECT_TRUE(settings.handle_source_table_truncated);
  EXPECT_THROW(rep::parse_full_load_settings(
                   R"({"ChangeProcessingDdlHandlingPolicy":{"HandleSourceTableTruncated":"no"}})"),
               std::invalid_argument);
}

namespace {

// Selects app.% and renames column `city` to `town`; removes columns named `sec%`.
const char* kFollowerMappings = R"({"rules":[
  {"rule-type":"selection","rule-id":"1","rule-name":"1",
   "object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"},
  {"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"column",
   "object-locator":{"schema-name":"%","table-name":"%","column-name":"city"},
   "rule-action":"rename","value":"town"},
  {"rule-type":"transformation","rule-id":"3","rule-name":"3","rule-target":"column",
   "object-locator":{"schema-name":"%","table-name":"%","column-name":"sec%"},
   "rule-action":"remove-column"}]})";

struct FollowerFixture {
  explicit FollowerFixture(bool replay_ddl) {
    rep::SourceTable table;
    table.name = {"app", "emp"};
    table.columns = {{"id", "integer", true, false, false, rep::ValueKind::kOther},
                     {"name", "text", false, false, false, rep::ValueKind::kOther},
                     {"secret", "text", false, false, false, rep::ValueKind::kOther}};
    table.primary_key = {"id"};
    const auto mapping = rep::TableMapping::parse(kFollowerMappings);
    plan = rep::plan_tables(mapping, {table}).at(0);
    follower.emplace(mapping, std::vector<rep::SourceTable>{table}, "", replay_ddl,
                     [this](const pgo::RelationColumn& column) {
                       described.push_back(column.name);
                       rep::SourceColumn out;
                       out.name = column.name;
                       out.type = column.type_oid == 20 ? "bigint" : "character varying(20)";
                       return out;
                     });
    follower->follow(plan);
  }

  static pgo::Relation relation(std::vector<pgo::RelationColumn> columns) {
    pgo::Relation out;
    out.id = 7;
    out.schema = "app";
    out.name = "emp";
    out.columns = std::move(columns);
    return out;
  }

  rep::TablePlan plan;
  std::optional<rep::SchemaFollower> follower;
  std::vector<std::string> described;
};

const pgo::RelationColumn kId{true, "id", 23, -1};
const pgo::RelationColumn kName{false, "name", 25, -1};
const pgo::RelationColumn kSecret{false, "secret", 25, -1};
const pgo::RelationColumn kCity{false, "city", 1043, 24};

}  // namespace

TEST(SchemaFollower, AddedColumnsAreMappedLikeTheOthersAndDroppedOnesGo) {
  FollowerFixture f(true);
  EXPECT_FALSE(f.follower->on_relation(0, f.plan, f.relation({kId, kName, kSecret})));
  auto decision = f.follower->on_relation(0, f.plan, f.relation({kId, kName, kSecret, kCity}));
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ddls, 1u);
  EXPECT_EQ(decision->applied, 1u);
  ASSERT_EQ(decision->alteration.added.size(), 1u);
  EXPECT_EQ(decision->alteration.added[0].target_name, "town");
  EXPECT_EQ(decision->applied_summary, R"(ADD COLUMN "town" character varying(20))");
  EXPECT_EQ(f.described, std::vector<std::string>{"city"});
  EXPECT_EQ(f.plan.columns.back().target_name, "town");
  EXPECT_EQ(f.plan.primary_key, std::vector<std::string>{"id"});

  decision = f.follower->on_relation(0, f.plan, f.relation({kId, kSecret, kCity}));
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->alteration.dropped, std::vector<std::string>{"name"});
  EXPECT_EQ(decision->applied, 1u);
  EXPECT_TRUE(decision->warnings.empty());

  // A type change is replayed with the new type; known types are not asked for again.
  f.described.clear();
  decision = f.follower->on_relation(0, f.plan, f.relation({{true, "id", 20, -1}, kSecret, kCity}));
  ASSERT_TRUE(decision);
  ASSERT_EQ(decision->alteration.retyped.size(), 1u);
  EXPECT_EQ(decision->alteration.retyped[0].target_type, "bigint");
  EXPECT_EQ(f.described, std::vector<std::string>{"id"});
}

TEST(SchemaFollower, ARenameAddsAndKeepsAndSaysSo) {
  FollowerFixture f(true);
  const auto decision =
      f.follower->on_relation(0, f.plan, f.relation({kId, {false, "title", 25, -1}, kSecret}));
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ddls, 2u);
  EXPECT_EQ(decision->applied, 1u);
  EXPECT_TRUE(decision->alteration.dropped.empty());
  ASSERT_EQ(decision->warnings.size(), 1u);
  EXPECT_NE(decision->warnings[0].find("cannot tell a RENAME COLUMN"), std::string::npos);
  EXPECT_NE(decision->warnings[0].find("'app'.'emp'"), std::string::npos);
}

TEST(SchemaFollower, PolicyOffCountsAndChangesNothing) {
  FollowerFixture f(false);
  const auto before = f.plan.columns.size();
  const auto decision =
      f.follower->on_relation(0, f.plan, f.relation({kId, kName, kSecret, kCity}));
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->ddls, 1u);
  EXPECT_EQ(decision->applied, 0u);
  EXPECT_TRUE(decision->alteration.added.empty());
  EXPECT_EQ(f.plan.columns.size(), before);
  ASSERT_EQ(decision->warnings.size(), 1u);
  EXPECT_NE(decision->warnings[0].find("HandleSourceTableAltered is false"), std::string::npos);
}

TEST(SchemaFollower, AResumeAddsWhatTheTargetLacks) {
  FollowerFixture f(true);
  // The catalog has `name`; the target does not (it was added while the task was stopped).
  f.follower->forget_missing(0, f.plan, {"id"});
  const auto decision = f.follower->on_relation(0, f.plan, f.relation({kId, kName, kSecret}));
  ASSERT_TRUE(decision);
  ASSERT_EQ(decision->alteration.added.size(), 1u);
  EXPECT_EQ(decision->alteration.added[0].target_name, "name");
}
