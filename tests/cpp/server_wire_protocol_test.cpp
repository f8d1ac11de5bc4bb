// How requests reach dms-local's services: routing by target, path or credential scope, the
// query protocol's forms and XML, and RPC v2 CBOR bodies.
#include <gtest/gtest.h>

#include "server/front/cbor_codec.hpp"
#include "server/front/query_protocol.hpp"
#include "server/front/wire_protocol.hpp"
#include "server/telemetry/cloudwatch_service.hpp"

namespace dagster_dms::server {
namespace {

using namespace std::string_literals;

constexpr std::string_view kMonitoringAuth =
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/monitoring/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc";

TEST(Routing, PicksServiceAndProtocol) {
  auto dms = route_request({"AmazonDMSv20160101.DescribeEndpoints", "/", "", "", "", ""});
  EXPECT_EQ(dms.wire, Wire::kAwsJson);
  EXPECT_EQ(dms.signing_name, "dms");
  EXPECT_EQ(dms.operation, "DescribeEndpoints");
  auto json10 = route_request({"GraniteServiceVersion20100801.GetMetricData", "/", "", "", "", ""});
  EXPECT_EQ(json10.signing_name, "monitoring");
  EXPECT_EQ(json10.json_content_type, "application/x-amz-json-1.0");
  auto logs = route_request({"Logs_20140328.GetLogEvents", "/", "", "", "", ""});
  EXPECT_EQ(logs.signing_name, "logs");

  auto cbor = route_request({"", "/service/GraniteServiceVersion20100801/operation/ListMetrics",
                             "rpc-v2-cbor", "application/cbor", "", ""});
  EXPECT_EQ(cbor.wire, Wire::kRpcV2Cbor);
  EXPECT_EQ(cbor.operation, "ListMetrics");

  auto query = route_request(
      {"", "/", "", "application/x-www-form-urlencoded; charset=utf-8", kMonitoringAuth, ""});
  EXPECT_EQ(query.wire, Wire::kQuery);
  EXPECT_EQ(query.signing_name, "monitoring");

  EXPECT_THROW(route_request({"Nope_2020.X", "/", "", "", "", ""}), ApiError);
  EXPECT_THROW(route_request({"", "/", "", "", "", ""}), ApiError);
  const std::string dms_scope =
      "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dms/aws4_request, Signature=abc";
  EXPECT_THROW(route_request({"", "/", "", "application/x-www-form-urlencoded", dms_scope, ""}),
               ApiError);
}

TEST(QueryProtocol, FormBecomesTheJsonDocument) {
  Route route;
  route.wire = Wire::kQuery;
  route.signing_name = "monitoring";
  const auto document = decode_request_body(
      route,
      "Action=GetMetricData&Version=2010-08-01&StartTime=2024-01-01T00%3A00%3A00Z"
      "&MetricDataQueries.member.1.Id=q1&MetricDataQueries.member.1.ReturnData=false"
      "&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat="
      "Sum"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Name=B"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=A"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=a+b");
  EXPECT_EQ(route.operation, "GetMetricData");
  EXPECT_EQ(document["StartTime"], "2024-01-01T00:00:00Z");
  const auto& query = document["MetricDataQueries"][0];
  EXPECT_EQ(query["Id"], "q1");
  EXPECT_EQ(query["ReturnData"], false);
  EXPECT_EQ(query["MetricStat"]["Period"], 60);
  const auto& dimensions = query["MetricStat"]["Metric"]["Dimensions"];
  ASSERT_EQ(dimensions.size(), 2u);
  EXPECT_EQ(dimensions[0]["Value"], "a b");
  EXPECT_EQ(dimensions[1]["Name"], "B");

  Route bad = route;
  EXPECT_THROW(decode_request_body(bad, "Action=ListMetrics&Version=2009-01-01"), ApiError);
  EXPECT_THROW(decode_request_body(bad, "Version=2010-08-01"), ApiError);
}

TEST(QueryProtocol, XmlAnswersListMembersAndIsoTimestamps) {
  const nlohmann::json result{
      {"Label", "CPUUtilization"},
      {"Datapoints", {{{"Timestamp", 1704067200}, {"Average", 12.5}, {"Unit", "Percent"}}}}};
  const auto xml =
      query_response_xml("GetMetricStatistics", "http://monitoring.amazonaws.com/doc/2010-08-01/",
                         result, "req-1", is_cloudwatch_timestamp_member);
  EXPECT_NE(xml.find("<GetMetricStatisticsResponse "
                     "xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
                     "<GetMetricStatisticsResult>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<Datapoints><member>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Label>CPUUtilization</Label>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Timestamp>2024-01-01T00:00:00Z</Timestamp>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Average>12.5</Average>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<RequestId>req-1</RequestId>"), std::string::npos) << xml;

  Route route;
  route.wire = Wire::kQuery;
  route.signing_name = "monitoring";
  const auto error =
      encode_error(route, ApiError(400, "InvalidParameterValueException", "bad <value>"), "req-2");
  EXPECT_EQ(error.status, 400);
  EXPECT_NE(error.body.find("<Code>InvalidParameterValue</Code><Message>bad &lt;value&gt;"),
            std::string::npos)
      << error.body;
  EXPECT_NE(error.body.find("<Type>Sender</Type>"), std::string::npos);
  const auto unknown =
      encode_error(route, ApiError(400, "UnknownOperationException", "no such action"), "req-3");
  EXPECT_NE(unknown.body.find("<Code>InvalidAction</Code>"), std::string::npos) << unknown.body;
}

TEST(RpcV2Cbor, TimestampsAreTaggedAndRequestsDecode) {
  const nlohmann::json answer{{"Timestamps", {1.5, 2}}, {"Values", {1.0}}, {"Label", "x"}};
  const auto bytes = encode_cbor_body(answer, is_cloudwatch_timestamp_member);
  // Decoding (tags ignored) gives the same document back.
  EXPECT_EQ(decode_cbor_body(bytes), answer);
  // Tag 1 (0xc1) precedes each timestamp, and nowhere else.
  EXPECT_EQ(std::count(bytes.begin(), bytes.end(), static_cast<char>(0xc1)), 2);
  EXPECT_EQ(decode_cbor_body(""), nlohmann::json::object());
  // What botocore sends for GetMetricStatistics: timestamps as tag 1 around an integer.
  const std::string botocore =
      "\xa3\x69StartTime\xc1\x1a\x65\x92\x00\x80\x66Period\x18\x3c"
      "\x6aStatistics\x81\x63Sum"s;
  EXPECT_EQ(decode_cbor_body(botocore),
            (nlohmann::json{{"StartTime", 1704067200}, {"Period", 60}, {"Statistics", {"Sum"}}}));
  // Half and single precision floats, indefinite-length maps and strings.
  EXPECT_EQ(decode_cbor_body("\xbf\x61h\xf9\x3e\x00\x61s\xfa\x3f\xc0\x00\x00"
                             "\x61t\x7f\x62"
                             "ab"
                             "\x61"
                             "c"
                             "\xff\xff"s),
            (nlohmann::json{{"h", 1.5}, {"s", 1.5}, {"t", "abc"}}));
  EXPECT_THROW(decode_cbor_body("\xff\xff"), std::invalid_argument);
  const auto negative =
      encode_cbor_body(nlohmann::json{{"n", -500}}, [](std::string_view) { return false; });
  EXPECT_EQ(decode_cbor_body(negative)["n"], -500);

  Route route;
  route.wire = Wire::kRpcV2Cbor;
  route.signing_name = "monitoring";
  const auto error = encode_error(route, ApiError(400, "InvalidParameterValueException", "m"), "r");
  EXPECT_EQ(error.content_type, "application/cbor");
  const auto header = std::find_if(error.headers.begin(), error.headers.end(),
                                   [](const auto& h) { return h.first == "x-amzn-query-error"; });
  ASSERT_NE(header, error.headers.end());
  EXPECT_EQ(header->second, "InvalidParameterValue;Sender");
  EXPECT_EQ(decode_cbor_body(error.body)["__type"], "InvalidParameterValueException");
}

}  // namespace
}  // namespace dagster_dms::server
