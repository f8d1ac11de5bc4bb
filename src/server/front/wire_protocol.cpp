#include "server/front/wire_protocol.hpp"

#include <fmt/format.h>

#include "server/front/cbor_codec.hpp"
#include "server/front/json_nesting.hpp"
#include "server/front/query_protocol.hpp"
#include "server/front/wire_json.hpp"
#include "server/telemetry/cloudwatch_service.hpp"

namespace dagster_dms::server {

namespace {

// The JSON-protocol services one port serves, by X-Amz-Target prefix.
struct TargetService {
  std::string_view target_prefix;
  std::string_view signing_name;
  std::string_view content_type;
};
constexpr TargetService kServices[] = {
    {"AmazonDMSv20160101", "dms", "application/x-amz-json-1.1"},
    {"GraniteServiceVersion20100801", "monitoring", "application/x-amz-json-1.0"},
    {"Logs_20140328", "logs", "application/x-amz-json-1.1"},
};

constexpr std::string_view kCloudWatchXmlNamespace =
    "http://monitoring.amazonaws.com/doc/2010-08-01/";
constexpr std::string_view kCborServicePrefix = "/service/";

bool is_timestamp_member(std::string_view member) {
  return is_cloudwatch_timestamp_member(member);
}

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/monitoring/aws4_request, ..." -> the
// service part of the scope, or empty. The verifier checks the whole header afterwards.
std::string scope_service(std::string_view authorization) {
  const auto credential = authorization.find("Credential=");
  if (credential == std::string_view::npos) return {};
  auto scope = authorization.substr(credential + 11);
  scope = scope.substr(0, scope.find_first_of(", "));
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto slash = scope.find('/', start);
    parts.push_back(scope.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts.size() == 5 ? std::string(parts[3]) : std::string();
}

}  // namespace

Route route_request(const WireInput& input) {
  Route route;
  if (!input.target.empty()) {
    const auto dot = input.target.find('.');
    for (const auto& candidate : kServices) {
      if (dot != std::string_view::npos && input.target.substr(0, dot) == candidate.target_prefix) {
        route.signing_name = candidate.signing_name;
        route.json_content_type = candidate.content_type;
        route.operation = input.target.substr(dot + 1);
        return route;
      }
    }
    throw ApiError(400, "UnknownOperationException",
                   fmt::format("Unknown operation {}.", input.target));
  }
  if (input.path.starts_with(kCborServicePrefix)) {
    // /service/GraniteServiceVersion20100801/operation/GetMetricData
    route.wire = Wire::kRpcV2Cbor;
    const auto rest = input.path.substr(kCborServicePrefix.size());
    const auto slash = rest.find('/');
    const auto service = rest.substr(0, slash);
    constexpr std::string_view kOperation = "/operation/";
    if (service != "GraniteServiceVersion20100801" || slash == std::string_view::npos ||
        rest.substr(slash, kOperation.size()) != kOperation) {
      throw ApiError(404, "UnknownOperationException",
                     fmt::format("Unknown RPC v2 CBOR service path {}.", input.path));
    }
    if (input.smithy_protocol != "rpc-v2-cbor") {
      throw ApiError(400, "UnknownOperationException",
                     "RPC v2 CBOR requests need the header smithy-protocol: rpc-v2-cbor.");
    }
    route.signing_name = "monitoring";
    route.operation = rest.substr(slash + kOperation.size());
    return route;
  }
  if (input.content_type.starts_with("application/x-www-form-urlencoded")) {
    const auto service = scope_service(input.authorization);
    if (service == "monitoring") {
      route.wire = Wire::kQuery;
      route.signing_name = service;
      return route;
    }
    throw ApiError(400, "UnknownOperationException",
                   service.empty()
                       ? std::string("A form-encoded request needs a SigV4 Authorization header "
                                     "whose credential scope names the service.")
                       : fmt::format("dms-local serves the query protocol for CloudWatch "
                                     "(monitoring) only, not for {}.",
                                     service));
  }
  throw ApiError(400, "UnknownOperationException", "The request has no X-Amz-Target header.");
}

nlohmann::json decode_request_body(Route& route, std::string_view body) {
  switch (route.wire) {
    case Wire::kAwsJson: {
      if (body.empty()) return nlohmann::json::object();
      if (exceeds_nesting_limit(body)) {
        throw ApiError(400, "SerializationException",
                       fmt::format("The request body nests objects or arrays deeper than the "
                                   "limit of {} levels.",
                                   kMaxNestingDepth));
      }
      auto document = nlohmann::json::parse(body, nullptr, false);
      if (document.is_discarded())
        throw ApiError(400, "SerializationException", "Malformed JSON body");
      return document;
    }
    case Wire::kRpcV2Cbor:
      try {
        return decode_cbor_body(body);
      } catch (const std::invalid_argument& error) {
        throw ApiError(400, "SerializationException", error.what());
      }
    case Wire::kQuery:
      try {
        auto request = parse_query_request(std::string(body));
        if (request.version != "2010-08-01") {
          throw ApiError(400, "InvalidParameterValue",
                         fmt::format("Version {} is not supported; use 2010-08-01.",
                                     request.version.empty() ? "(none)" : request.version));
        }
        route.operation = request.action;
        return std::move(request.document);
      } catch (const InvalidQueryParameter& error) {
        throw ApiError(400, "InvalidParameterValue", error.what());
      } catch (const std::invalid_argument& error) {
        throw ApiError(400, "MissingAction", error.what());
      }
  }
  return nlohmann::json::object();
}

WireResponse encode_result(const Route& route, const nlohmann::json& result,
                           std::string_view request_id) {
  WireResponse out;
  switch (route.wire) {
    case Wire::kAwsJson:
      out.content_type = route.json_content_type;
      out.body = wire_json(result);
      break;
    case Wire::kRpcV2Cbor:
      out.content_type = "application/cbor";
      out.body = encode_cbor_body(result, is_timestamp_member);
      out.headers.emplace_back("smithy-protocol", "rpc-v2-cbor");
      break;
    case Wire::kQuery:
      out.content_type = "text/xml";
      out.body = query_response_xml(route.operation, kCloudWatchXmlNamespace, result, request_id,
                                    is_timestamp_member);
      break;
  }
  return out;
}

WireResponse encode_error(const Route& route, const ApiError& error, std::string_view request_id) {
  WireResponse out;
  out.status = error.http_status();
  const bool sender = error.http_status() < 500;
  // CloudWatch is "query compatible": JSON and CBOR errors also carry the query protocol's code,
  // which is the code botocore then reports.
  std::optional<std::string> query_code;
  if (route.signing_name == "monitoring") query_code = cloudwatch_query_code(error.code());
  if (query_code && route.wire != Wire::kQuery) {
    out.headers.emplace_back("x-amzn-query-error",
                             fmt::format("{};{}", *query_code, sender ? "Sender" : "Receiver"));
  }
  switch (route.wire) {
    case Wire::kAwsJson:
      out.content_type = route.json_content_type;
      out.body = wire_json(error.body());
      out.headers.emplace_back("x-amzn-ErrorType", error.code());
      break;
    case Wire::kRpcV2Cbor:
      out.content_type = "application/cbor";
      out.body = encode_cbor_body(error.body(), is_timestamp_member);
      out.headers.emplace_back("smithy-protocol", "rpc-v2-cbor");
      break;
    case Wire::kQuery:
      out.content_type = "text/xml";
      out.body = query_error_xml(kCloudWatchXmlNamespace, query_code.value_or(error.code()),
                                 error.what(), sender, request_id);
      break;
  }
  return out;
}

}  // namespace dagster_dms::server
