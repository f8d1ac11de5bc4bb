// dms-local's pure logic: identifiers, pagination, filters and SigV4 verification.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "aws/sigv4.hpp"
#include "server/dms_api/filters.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/front/api_error.hpp"
#include "server/front/pagination.hpp"
#include "server/front/sigv4_verifier.hpp"

namespace dagster_dms::server {
namespace {

TEST(Identifiers, FollowTheDmsRules) {
  EXPECT_FALSE(identifier_problem("Id", "my-task-1", 255));
  EXPECT_TRUE(identifier_problem("Id", "1task", 255));
  EXPECT_TRUE(identifier_problem("Id", "task-", 255));
  EXPECT_TRUE(identifier_problem("Id", "a--b", 255));
  EXPECT_TRUE(identifier_problem("Id", "my_task", 255));
  EXPECT_TRUE(identifier_problem("Id", "", 255));
  EXPECT_TRUE(identifier_problem("Id", std::string(64, 'a'), 63));
}

TEST(Identifiers, ArnsRoundTrip) {
  const auto id = random_resource_id();
  ASSERT_EQ(id.size(), 26u);
  EXPECT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), std::string::npos);
  const auto arn = make_arn("eu-west-1", "123456789012", ResourceKind::kTask, id);
  const auto parsed = parse_dms_arn(arn);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->resource_type, "task");
  EXPECT_EQ(parsed->resource_id, id);
  EXPECT_FALSE(parse_dms_arn("arn:aws:s3:::bucket"));
}

TEST(Pagination, MarkerIsTheNextKeyAndBoundsAreChecked) {
  std::vector<std::string> keys;
  for (int i = 0; i < 45; ++i) keys.push_back(fmt::format("k{:02d}", i));
  auto first = page_window(keys, 20, std::nullopt, {});
  EXPECT_EQ(first.begin, 0u);
  EXPECT_EQ(first.end, 20u);
  ASSERT_TRUE(first.next_marker);
  auto second = page_window(keys, 20, first.next_marker, {});
  EXPECT_EQ(second.begin, 20u);
  auto third = page_window(keys, 20, second.next_marker, {});
  EXPECT_EQ(third.end, 45u);
  EXPECT_FALSE(third.next_marker);
  EXPECT_THROW(page_window(keys, 19, std::nullopt, {}), ApiError);
  EXPECT_THROW(page_window(keys, 101, std::nullopt, {}), ApiError);
  EXPECT_NO_THROW(page_window(keys, 500, std::nullopt, {20, 500, 100}));
}

TEST(Filters, AndAcrossFiltersOrWithinValues) {
  const FilterSpec spec{{"a", "b"}, {"b"}};
  std::vector<dms::Filter> filters(2);
  filters[0].name = "a";
  filters[0].values = {"x", "y"};
  filters[1].name = "b";
  filters[1].values = {"source"};
  const auto values = [](std::string_view name) {
    return name == "a" ? std::vector<std::string>{"y"} : std::vector<std::string>{"SOURCE"};
  };
  EXPECT_TRUE(matches_filters(filters, spec, values));
  filters[0].values = {"z"};
  EXPECT_FALSE(matches_filters(filters, spec, values));
  filters[0].name = "nope";
  EXPECT_THROW(validate_filters(filters, spec), ApiError);
}

class FixedClock final : public aws::Clock {
 public:
  explicit FixedClock(aws::TimePoint now) : now_(now) {}
  [[nodiscard]] aws::TimePoint now() const override { return now_; }
  void sleep_for(std::chrono::milliseconds) override {}
  aws::TimePoint now_;
};

aws::HttpRequest signed_request(aws::TimePoint when, const std::string& secret) {
  aws::HttpRequest request;
  request.url = "http://127.0.0.1:4566/";
  request.headers.set("X-Amz-Target", "AmazonDMSv20160101.DescribeEndpoints");
  request.headers.set("Content-Type", "application/x-amz-json-1.1");
  request.body = "{}";
  aws::Credentials credentials;
  credentials.access_key_id = "test";
  credentials.secret_access_key = aws::Secret(secret);
  aws::sign_request(request, credentials, {"us-east-1", "dms", when});
  return request;
}

std::string code_of(const SigV4Verifier& verifier, const aws::HttpRequest& request) {
  try {
    (void)verifier.verify(request, "dms");
  } catch (const ApiError& error) {
    return error.code();
  }
  return "ok";
}

TEST(SigV4Verifier, AcceptsOurSignerAndRejectsWhatAwsRejects) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  FixedClock clock(now);
  SigV4Verifier verifier({default_key_pair()}, clock);
  const auto good = signed_request(now, "test");
  const auto caller = verifier.verify(good, "dms");
  EXPECT_EQ(caller.account_id, "000000000000");
  EXPECT_EQ(caller.region, "us-east-1");

  EXPECT_EQ(code_of(verifier, signed_request(now, "wrong")), "InvalidSignatureException");
  auto tampered = good;
  tampered.body = R"({"MaxRecords":20})";
  EXPECT_EQ(code_of(verifier, tampered), "InvalidSignatureException");
  EXPECT_EQ(code_of(verifier, signed_request(now - std::chrono::minutes(16), "test")),
            "InvalidSignatureException");
  EXPECT_EQ(code_of(verifier, signed_request(now + std::chrono::minutes(16), "test")),
            "InvalidSignatureException");
  EXPECT_EQ(code_of(verifier, signed_request(now - std::chrono::minutes(14), "test")), "ok");
  EXPECT_EQ(code_of(SigV4Verifier({}, clock), good), "UnrecognizedClientException");
  auto unsigned_request = good;
  unsigned_request.headers.remove("Authorization");
  EXPECT_EQ(code_of(verifier, unsigned_request), "MissingAuthenticationTokenException");
  auto partial = good;
  partial.headers.set("Authorization",
                      "AWS4-HMAC-SHA256 Credential=test/20231114/us-east-1/dms/aws4_request");
  EXPECT_EQ(code_of(verifier, partial), "IncompleteSignatureException");
  EXPECT_EQ(code_of(verifier, good), "ok");
  try {
    (void)verifier.verify(good, "logs");
    FAIL();
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), "InvalidSignatureException");
  }
}

}  // namespace
}  // namespace dagster_dms::server
