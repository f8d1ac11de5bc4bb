// Data validation's comparison rules: how values compare, how a partition's rows pair up by
// key, how failures are keyed, and which ValidationSettings a task may have.
#include <gtest/gtest.h>

#include <stdexcept>

#include "replicate/validation_rules.hpp"
#include "replicate/validation_settings.hpp"

namespace rep = dagster_dms::replicate;

namespace {

using Value = std::optional<std::string>;

TEST(ValidationRules, ComparisonFollowsTheSourceColumnType) {
  EXPECT_EQ(rep::compare_as("numeric(12,2)"), rep::CompareAs::kNumeric);
  EXPECT_EQ(rep::compare_as("numeric"), rep::CompareAs::kNumeric);
  EXPECT_EQ(rep::compare_as("real"), rep::CompareAs::kReal);
  EXPECT_EQ(rep::compare_as("double precision"), rep::CompareAs::kDouble);
  EXPECT_EQ(rep::compare_as("timestamp(3) with time zone"), rep::CompareAs::kTimestamp);
  EXPECT_EQ(rep::compare_as("time without time zone"), rep::CompareAs::kTimestamp);
  EXPECT_EQ(rep::compare_as("character varying(20)"), rep::CompareAs::kText);
  EXPECT_EQ(rep::compare_as("bigint"), rep::CompareAs::kText);
}

TEST(ValidationRules, NumericsCompareByValueNotSpelling) {
  const auto same = [](const char* a, const char* b) {
    return rep::same_value(rep::CompareAs::kNumeric, Value(a), Value(b));
  };
  EXPECT_TRUE(same("1.50", "1.5"));
  EXPECT_TRUE(same("1.0", "1"));
  EXPECT_TRUE(same("-0.00", "0"));
  EXPECT_TRUE(same("007.25", "7.250"));
  EXPECT_FALSE(same("1.51", "1.5"));
  EXPECT_FALSE(same("-1.5", "1.5"));
  EXPECT_FALSE(same("10", "1"));
}

TEST(ValidationRules, FloatsCompareWithinTheirPrecision) {
  EXPECT_TRUE(rep::same_value(rep::CompareAs::kReal, Value("3.14159"), Value("3.141590118")));
  EXPECT_FALSE(rep::same_value(rep::CompareAs::kReal, Value("3.14159"), Value("3.1416")));
  EXPECT_TRUE(
      rep::same_value(rep::CompareAs::kDouble, Value("1e+20"), Value("100000000000000000000")));
  EXPECT_FALSE(rep::same_value(rep::CompareAs::kDouble, Value("0.1"), Value("0.1000001")));
  EXPECT_TRUE(rep::same_value(rep::CompareAs::kDouble, Value("NaN"), Value("NaN")));
  EXPECT_FALSE(rep::same_value(rep::CompareAs::kDouble, Value("Infinity"), Value("-Infinity")));
}

TEST(ValidationRules, TimestampsMayLosePrecisionOnTheTarget) {
  const auto same = [](const char* a, const char* b) {
    return rep::same_value(rep::CompareAs::kTimestamp, Value(a), Value(b));
  };
  EXPECT_TRUE(same("2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.123"));
  EXPECT_TRUE(same("2024-01-02 03:04:05.1235", "2024-01-02 03:04:05.124"));
  EXPECT_TRUE(same("2024-01-02 03:04:05.5+01", "2024-01-02 03:04:05.500+01"));
  EXPECT_FALSE(same("2024-01-02 03:04:05.123456", "2024-01-02 03:04:05.124"));
  EXPECT_FALSE(same("2024-01-02 03:04:05.5+01", "2024-01-02 03:04:05.5+02"));
  EXPECT_FALSE(same("2024-01-02 03:04:05", "2024-01-02 03:04:06"));
  // A target keeping more digits than the source is not a rounding of it.
  EXPECT_FALSE(same("2024-01-02 03:04:05.1", "2024-01-02 03:04:05.123"));
}

TEST(ValidationRules, NullEqualsOnlyNull) {
  EXPECT_TRUE(rep::same_value(rep::CompareAs::kText, std::nullopt, std::nullopt));
  EXPECT_FALSE(rep::same_value(rep::CompareAs::kText, std::nullopt, Value("")));
  EXPECT_FALSE(rep::same_value(rep::CompareAs::kNumeric, Value("0"), std::nullopt));
}

TEST(ValidationRules, PartitionFindsEachKindOfFailure) {
  const std::vector<rep::ComparedColumn> columns = {{"name", rep::CompareAs::kText},
                                                    {"price", rep::CompareAs::kNumeric}};
  const std::vector<rep::ValidationRow> source = {
      {{"1"}, {Value("a"), Value("1.50")}},
      {{"2"}, {Value("b"), Value("2")}},
      {{"3"}, {Value("c"), Value("3")}},
  };
  const std::vector<rep::ValidationRow> target = {
      {{"4"}, {Value("d"), Value("4")}},
      {{"2"}, {Value("B"), Value("2.0")}},
      {{"1"}, {Value("a"), Value("1.5")}},
  };
  const auto failures = rep::compare_partition(columns, source, target);
  ASSERT_EQ(failures.size(), 3U);
  EXPECT_EQ(failures[0].type, rep::FailureType::kRecordDiff);
  EXPECT_EQ(failures[0].key, std::vector<std::string>{"2"});
  EXPECT_NE(failures[0].details.find("\"name\""), std::string::npos) << failures[0].details;
  EXPECT_EQ(failures[0].details.find("price"), std::string::npos) << failures[0].details;
  EXPECT_EQ(failures[1].type, rep::FailureType::kMissingTarget);
  EXPECT_EQ(failures[1].key, std::vector<std::string>{"3"});
  EXPECT_EQ(failures[2].type, rep::FailureType::kMissingSource);
  EXPECT_EQ(failures[2].key, std::vector<std::string>{"4"});
}

TEST(ValidationRules, CompositeKeysDoNotRunTogether) {
  // ("ab", "c") and ("a", "bc") are different rows.
  const std::vector<rep::ValidationRow> source = {{{"ab", "c"}, {}}};
  const std::vector<rep::ValidationRow> target = {{{"a", "bc"}, {}}};
  const auto failures = rep::compare_partition({}, source, target);
  ASSERT_EQ(failures.size(), 2U);
  EXPECT_EQ(failures[0].type, rep::FailureType::kMissingTarget);
  EXPECT_EQ(failures[1].type, rep::FailureType::kMissingSource);
}

TEST(ValidationRules, FailureKeysAreWrittenAsDmsWritesThem) {
  EXPECT_EQ(rep::failure_key_json({"3451491"}), R"({"key": ["3451491"]})");
  EXPECT_EQ(rep::failure_key_json({"1", "a\"b"}), R"({"key": ["1", "a\"b"]})");
  EXPECT_EQ(rep::failure_type_name(rep::FailureType::kMissingSource), "MISSING_SOURCE");
  EXPECT_EQ(rep::validation_state_name(rep::ValidationState::kMismatchedRecords),
            "Mismatched records");
}

TEST(ValidationSettingsRules, DefaultsAreDms) {
  const auto settings = rep::parse_validation_settings("");
  EXPECT_FALSE(settings.enabled);
  EXPECT_EQ(settings.thread_count, 5);
  EXPECT_EQ(settings.partition_size, 10000);
  EXPECT_EQ(settings.failure_max_count, 10000);
  EXPECT_EQ(settings.table_failure_max_count, 1000);
  EXPECT_EQ(settings.cdc_delay_seconds, 0);
}

TEST(ValidationSettingsRules, ValidationOnlyWaitsThreeMinutesForChanges) {
  const auto settings = rep::parse_validation_settings(
      R"({"ValidationSettings": {"EnableValidation": true, "ValidationOnly": true,
          "ValidationQueryCdcDelaySeconds": 5}})");
  EXPECT_EQ(settings.cdc_delay_seconds, 180);
}

TEST(ValidationSettingsRules, BadMembersAreNamed) {
  try {
    rep::parse_validation_settings(R"({"ValidationSettings": {"PartitionSize": 0}})");
    FAIL() << "accepted PartitionSize 0";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("ValidationSettings.PartitionSize"),
              std::string::npos);
  }
  EXPECT_THROW(rep::parse_validation_settings(R"({"ValidationSettings": {"ValidationMode": "X"}})"),
               std::invalid_argument);
  EXPECT_THROW(rep::parse_validation_settings(R"({"ValidationSettings": {"ThreadCount": "5"}})"),
               std::invalid_argument);
}

TEST(ValidationSettingsRules, ValidationOnlyNeedsDoNothingAndALoadOrCdcTask) {
  const std::string only =
      R"({"ValidationSettings": {"EnableValidation": true, "ValidationOnly": true},
          "FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}})";
  EXPECT_EQ(rep::validation_settings_problem(only, "full-load"), "");
  EXPECT_EQ(rep::validation_settings_problem(only, "cdc"), "");
  EXPECT_NE(rep::validation_settings_problem(only, "full-load-and-cdc").find("full-load or cdc"),
            std::string::npos);
  const std::string dropping =
      R"({"ValidationSettings": {"EnableValidation": true, "ValidationOnly": true}})";
  EXPECT_NE(rep::validation_settings_problem(dropping, "full-load").find("DO_NOTHING"),
            std::string::npos);
  EXPECT_EQ(rep::validation_settings_problem(R"({"ValidationSettings": {}})", "full-load-and-cdc"),
            "");
}

}  // namespace
