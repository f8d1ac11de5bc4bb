// Set-based apply statements and the runs they carry (the SQL itself runs against PostgreSQL in
// tests/python/test_dms_local_cdc_apply.py), and the settings that choose the apply mode.
#include <gtest/gtest.h>

#include <stdexcept>
#include <tuple>

#include "replicate/batch_apply.hpp"
#include "replicate/task_settings.hpp"

namespace rep = dagster_dms::replicate;

TEST(TextArray, QuotesEveryElementAndEscapesQuotesAndBackslashes) {
  rep::TextArray array;
  EXPECT_STREQ(array.finish(), "{}");
  array.clear();
  array.add("plain");
  array.add(nullptr);
  array.add("");
  array.add("NULL");
  array.add(R"(a "quoted" \ value, {braced})");
  EXPECT_STREQ(array.finish(), R"({"plain",NULL,"","NULL","a \"quoted\" \\ value, {braced}"})");
  // More rows after a finish() continue the same literal.
  array.add("more");
  EXPECT_STREQ(array.finish(),
               R"({"plain",NULL,"","NULL","a \"quoted\" \\ value, {braced}","more"})");
}

TEST(RunSql, InsertUnnestsOneArrayPerColumnAndCastsToTheColumnType) {
  EXPECT_EQ(rep::insert_run_sql({"s", "T"}, {{"id", "integer"}, {"Na\"me", "text"}}),
            R"(INSERT INTO "s"."T" ("id", "Na""me") SELECT u.c1::integer, u.c2::text FROM )"
            R"(unnest($1::text[], $2::text[]) AS u(c1, c2))");
}

TEST(RunSql, UpdateSetsFirstThenMatchesTheKey) {
  EXPECT_EQ(rep::update_run_sql({"public", "t"}, {{"v", "numeric"}},
                                {{"a", "integer"}, {"b", "character varying"}}),
            R"(UPDATE "public"."t" AS t SET "v" = u.c1::numeric FROM )"
            R"(unnest($1::text[], $2::text[], $3::text[]) AS u(c1, c2, c3) WHERE )"
            R"(t."a" = u.c2::integer AND t."b" = u.c3::character varying)");
}

TEST(RunSql, DeleteMatchesTheKey) {
  EXPECT_EQ(rep::delete_run_sql({"public", "t"}, {{"id", "bigint"}}),
            R"(DELETE FROM "public"."t" AS t USING unnest($1::text[]) AS u(c1) WHERE )"
            R"(t."id" = u.c1::bigint)");
}

TEST(ChangeRun, CollectsRowsColumnByColumn) {
  rep::ChangeRun run;
  EXPECT_FALSE(run.continues("Ivv"));
  run.start("Ivv", 2);
  run.add({"1", "one"});
  run.add({"2", nullptr});
  EXPECT_TRUE(run.continues("Ivv"));
  EXPECT_FALSE(run.continues("Iv-"));
  EXPECT_EQ(run.rows(), 2U);
  EXPECT_GT(run.bytes(), 0U);
  const auto parameters = run.parameters();
  ASSERT_EQ(parameters.size(), 2U);
  EXPECT_STREQ(parameters[0], R"({"1","2"})");
  EXPECT_STREQ(parameters[1], R"({"one",NULL})");
  run.clear();
  EXPECT_EQ(run.rows(), 0U);
  EXPECT_FALSE(run.continues("Ivv"));
}

TEST(ChangeRun, RemembersUpdateKeysSoNoRowIsUpdatedTwiceInOneStatement) {
  rep::ChangeRun run;
  run.start("Uvv", 2);
  EXPECT_TRUE(run.remember_key({"1", "a"}));
  EXPECT_TRUE(run.remember_key({"1", nullptr}));
  EXPECT_TRUE(run.remember_key({"1a", ""}));
  EXPECT_FALSE(run.remember_key({"1", "a"}));
  // Length-prefixed: ("1:", "") and ("1", ":") are different keys.
  EXPECT_TRUE(run.remember_key({"1:", ""}));
  EXPECT_TRUE(run.remember_key({"1", ":"}));
  run.start("Uvv", 2);
  EXPECT_TRUE(run.remember_key({"1", "a"}));
}

namespace {

// Every member, to compare a whole tuning at once: batch_apply, the batch timeouts (s), memory
// limit (MB), split size, MinTransactionSize and CommitTimeout (s).
auto members(const rep::ChangeProcessingTuning& t) {
  return std::make_tuple(t.batch_apply, t.batch_timeout_min.count(), t.batch_timeout_max.count(),
                         t.batch_memory_limit_bytes / (1024 * 1024), t.batch_split_size,
                         t.min_transaction_size, t.commit_timeout.count());
}

}  // namespace

TEST(ChangeProcessingTuning, DefaultsAreDmsTransactionalMode) {
  EXPECT_EQ(members(rep::parse_full_load_settings("").change_tuning),
            std::make_tuple(false, 1, 30, 500U, 0U, 1000U, 1));
}

TEST(ChangeProcessingTuning, ReadsBatchApplySettings) {
  const auto tuning = rep::parse_full_load_settings(
                          R"({"TargetMetadata":{"BatchApplyEnabled":true},
                              "ChangeProcessingTuning":{"BatchApplyTimeoutMin":0,
                              "BatchApplyTimeoutMax":5,"BatchApplyMemoryLimit":20,
                              "BatchSplitSize":100,"MinTransactionSize":50,"CommitTimeout":2}})")
                          .change_tuning;
  EXPECT_EQ(members(tuning), std::make_tuple(true, 0, 5, 20U, 100U, 50U, 2));
}

TEST(ChangeProcessingTuning, RefusesValuesOutOfRangeNamingTheMember) {
  const auto message = [](const char* json) -> std::string {
    try {
      (void)rep::parse_full_load_settings(json);
    } catch (const std::invalid_argument& error) {
      return error.what();
    }
    return "accepted";
  };
  EXPECT_EQ(message(R"({"ChangeProcessingTuning":{"BatchApplyTimeoutMin":40}})"),
            "ChangeProcessingTuning.BatchApplyTimeoutMin must not be greater than "
            "ChangeProcessingTuning.BatchApplyTimeoutMax");
  EXPECT_EQ(message(R"({"ChangeProcessingTuning":{"BatchApplyMemoryLimit":0}})"),
            "ChangeProcessingTuning.BatchApplyMemoryLimit must be an integer between 1 and "
            "1048576");
  EXPECT_EQ(message(R"({"ChangeProcessingTuning":{"BatchSplitSize":-1}})"),
            "ChangeProcessingTuning.BatchSplitSize must be an integer between 0 and 1000000000");
  EXPECT_EQ(message(R"({"ChangeProcessingTuning":{"MinTransactionSize":0}})"),
            "ChangeProcessingTuning.MinTransactionSize must be an integer between 1 and "
            "1000000000");
  EXPECT_EQ(message(R"({"TargetMetadata":{"BatchApplyEnabled":"yes"}})"),
            "TargetMetadata.BatchApplyEnabled must be true or false");
}

TEST(CopyRun, RowsInCopyTextFormat) {
  EXPECT_EQ(rep::copy_run_sql({"s", "T"}, {"id", "a b"}),
            R"(COPY "s"."T" ("id", "a b") FROM STDIN)");
  std::string line;
  rep::append_copy_text_row(line, {"1", nullptr, "", "\\N", "tab\there\nnew\rline\\"});
  EXPECT_EQ(line, "1\t\\N\t\t\\\\N\ttab\\there\\nnew\\rline\\\\\n");
  rep::append_copy_text_row(line, {"2"});
  EXPECT_EQ(line.substr(line.size() - 2), "2\n");
}
