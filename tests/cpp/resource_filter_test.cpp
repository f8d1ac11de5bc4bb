#include "orchestrate/resource_filter.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dagster_dms::orchestrate {
namespace {

TEST(ParseTagFilter, AcceptsKeysAndKeyValuePairs) {
  const auto tags = parse_tag_filter(" env , team=data, owner = ops ");
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].key, "env");
  EXPECT_FALSE(tags[0].value.has_value());
  EXPECT_EQ(tags[1].key, "team");
  EXPECT_EQ(tags[1].value, "data");
  EXPECT_EQ(tags[2].key, "owner");
  EXPECT_EQ(tags[2].value, "ops");
}

TEST(ParseTagFilter, RejectsAnEmptyKeyNamingTheField) {
  try {
    parse_tag_filter("env,=prod");
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("filter_by_tags"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("=prod"), std::string::npos);
  }
}

TEST(ParseTagFilter, RejectsAnEmptyItemAndAcceptsAnEmptyText) {
  EXPECT_THROW(parse_tag_filter("env,,team"), std::invalid_argument);
  EXPECT_THROW(parse_tag_filter("env,"), std::invalid_argument);
  EXPECT_TRUE(parse_tag_filter("").empty());
  EXPECT_TRUE(parse_tag_filter("  ").empty());
}

TEST(ResourceFilter, UsesSearchSemanticsForIncludeAndExclude) {
  const ResourceFilter filter(std::string("prod"), std::string("test|dev"), {});
  EXPECT_TRUE(filter.matches_name("prod-orders"));
  EXPECT_TRUE(filter.matches_name("eu-prod-orders"));  // search, not full match
  EXPECT_FALSE(filter.matches_name("prod-orders-test"));
  EXPECT_FALSE(filter.matches_name("dev-prod"));
  EXPECT_FALSE(filter.matches_name("staging"));
}

TEST(ResourceFilter, NoPatternsMatchEverything) {
  const ResourceFilter filter(std::nullopt, std::nullopt, {});
  EXPECT_TRUE(filter.matches_name("anything"));
  EXPECT_TRUE(filter.matches_tags({}));
  EXPECT_FALSE(filter.needs_tags());
}

TEST(ResourceFilter, EveryTagRequirementMustHold) {
  const ResourceFilter filter(std::nullopt, std::nullopt, parse_tag_filter("env,team=data"));
  EXPECT_TRUE(filter.needs_tags());
  EXPECT_TRUE(filter.matches_tags({{"env", "prod"}, {"team", "data"}}));
  EXPECT_FALSE(filter.matches_tags({{"env", "prod"}, {"team", "web"}}));
  EXPECT_FALSE(filter.matches_tags({{"team", "data"}}));
  EXPECT_TRUE(filter.matches_tags({{"env", ""}, {"team", "data"}, {"extra", "x"}}));
}

TEST(ResourceFilter, BadPatternNamesTheField) {
  try {
    ResourceFilter filter(std::nullopt, std::string("(unclosed"), {});
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("exclude_name_pattern"), std::string::npos);
  }
}

TEST(IdentifierPatternWarning, FlagsUnderscoresAndSuggestsHyphens) {
  const auto warning = identifier_pattern_warning("filter_by_name_pattern", "^prod_.*");
  ASSERT_TRUE(warning.has_value());
  EXPECT_NE(warning->find("^prod-.*"), std::string::npos);
  EXPECT_NE(warning->find("filter_by_name_pattern"), std::string::npos);
}

TEST(IdentifierPatternWarning, StaysQuietWhenTheNameCanMatch) {
  EXPECT_FALSE(identifier_pattern_warning("f", "^prod-.*").has_value());
  EXPECT_FALSE(identifier_pattern_warning("f", "[_a-z]+").has_value());
  EXPECT_FALSE(identifier_pattern_warning("f", "prod_x|orders").has_value());
}

}  // namespace
}  // namespace dagster_dms::orchestrate
