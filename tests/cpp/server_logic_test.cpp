// dms-local's pure logic: identifiers, pagination, filters and SigV4 verification.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "aws/sigv4.hpp"
#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/filters.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resource_status.hpp"
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

// Every status of a resource has one wire name, and reading it back gives the same status.
template <class Status>
void expect_wire_names_round_trip() {
  std::set<std::string_view> names;
  for (const auto& [status, name] : StatusWire<Status>::names) {
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(names.insert(name).second) << "duplicate wire name " << name;
    EXPECT_EQ(to_wire(status), name);
    EXPECT_EQ(status_from_wire<Status>(name), status);
    nlohmann::json holder = nlohmann::json::object();
    set_status(holder, status);
    EXPECT_EQ(holder[std::string(StatusWire<Status>::member)], std::string(name));
    EXPECT_EQ(status_in<Status>(holder), status);
  }
  EXPECT_FALSE(status_from_wire<Status>("no-such-status"));
}

TEST(ResourceStatus, EachResourceStatusHasOneWireName) {
  expect_wire_names_round_trip<TaskStatus>();
  expect_wire_names_round_trip<InstanceStatus>();
  expect_wire_names_round_trip<EndpointStatus>();
  expect_wire_names_round_trip<ReplicationStatus>();
  expect_wire_names_round_trip<ProvisionState>();
  expect_wire_names_round_trip<ConnectionStatus>();
  EXPECT_EQ(to_wire(TaskStatus::kStopped), "stopped");
  EXPECT_EQ(to_wire(InstanceStatus::kAvailable), "available");
  EXPECT_EQ(to_wire(ProvisionState::kFailed), "failed-provision");
  EXPECT_EQ(StatusWire<InstanceStatus>::member, "ReplicationInstanceStatus");
}

TEST(ResourceStatus, AStoredStatusThatIsNotOursIsAnError) {
  EXPECT_FALSE(find_status<TaskStatus>(nlohmann::json::object()));
  EXPECT_FALSE(find_status<TaskStatus>(nlohmann::json{{"Status", 3}}));
  EXPECT_THROW((void)status_in<TaskStatus>(nlohmann::json{{"Status", "sleeping"}}),
               std::logic_error);
  // "available" is an instance status, not a task's.
  EXPECT_THROW((void)status_in<TaskStatus>(nlohmann::json{{"Status", "available"}}),
               std::logic_error);
}

nlohmann::json numbers_page(const DescribeRequest& request, std::string_view none_found) {
  static const FilterSpec kSpec{{"parity"}, {}};
  std::vector<int> numbers(45);
  for (int i = 0; i < 45; ++i) numbers[static_cast<std::size_t>(i)] = i;
  return describe_page(
      numbers, request, {kSpec, none_found}, "Numbers",
      [](int number, std::string_view) {
        return std::vector<std::string>{number % 2 == 0 ? "even" : "odd"};
      },
      [](int number, std::size_t) { return fmt::format("n{:02d}", number); },
      [](int number) { return nlohmann::json(number); });
}

TEST(DescribePage, FiltersThenPagesByKeyAndAnswersNotFound) {
  std::vector<dms::Filter> odd(1);
  odd[0].name = "parity";
  odd[0].values = {"odd"};
  auto first = numbers_page({odd, 20, std::nullopt}, "No numbers found");
  ASSERT_EQ(first["Numbers"].size(), 20u);
  EXPECT_EQ(first["Numbers"][0], 1);
  EXPECT_EQ(first["Numbers"][19], 39);
  ASSERT_TRUE(first.contains("Marker"));
  const auto second =
      numbers_page({odd, 20, first["Marker"].get<std::string>()}, "No numbers found");
  ASSERT_EQ(second["Numbers"].size(), 2u);
  EXPECT_EQ(second["Numbers"][1], 43);
  EXPECT_FALSE(second.contains("Marker"));

  // No filters: everything, 100 per page by default.
  EXPECT_EQ(numbers_page({}, "No numbers found")["Numbers"].size(), 45u);

  std::vector<dms::Filter> none(1);
  none[0].name = "parity";
  none[0].values = {"neither"};
  try {
    numbers_page({none, std::nullopt, std::nullopt}, "No numbers found");
    ADD_FAILURE() << "filters matching nothing must answer ResourceNotFoundFault";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.code(), "ResourceNotFoundFault");
    EXPECT_STREQ(error.what(), "No numbers found");
  }
  // Without a not-found message (table statistics) the page is just empty.
  EXPECT_TRUE(numbers_page({none, std::nullopt, std::nullopt}, "")["Numbers"].empty());

  std::vector<dms::Filter> unknown(1);
  unknown[0].name = "colour";
  unknown[0].values = {"red"};
  EXPECT_THROW(numbers_page({unknown, std::nullopt, std::nullopt}, "x"), ApiError);
  EXPECT_THROW(numbers_page({std::nullopt, 19, std::nullopt}, "x"), ApiError);
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
