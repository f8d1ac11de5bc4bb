#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dagster_dms::server {

// The AWS query protocol, as older clients (and botocore when told to) speak it to CloudWatch:
// a form-encoded POST body `Action=GetMetricStatistics&Version=2010-08-01&Namespace=...` with
// lists as `Name.member.N` and nested members as `A.B`, answered in XML.
struct QueryRequest {
  std::string action;
  std::string version;
  nlohmann::json document;  // the parameters as the JSON protocols would carry them
};

// A parameter the query protocol cannot carry: a malformed list index, or a name nesting deeper
// than kMaxNestingDepth.
class InvalidQueryParameter : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Parses a form body. Values of members the JSON protocols carry as numbers or booleans
// (Period, MaxDatapoints, ReturnData...) are converted; timestamps stay ISO 8601 text, which the
// models accept. Throws InvalidQueryParameter for a bad parameter and std::invalid_argument for a
// body without Action.
QueryRequest parse_query_request(const std::string& body);

// <ActionResponse xmlns=...><ActionResult>...</ActionResult><ResponseMetadata>...
// Lists become <member> elements; members that `is_timestamp` names are written as ISO 8601.
std::string query_response_xml(std::string_view action, std::string_view xml_namespace,
                               const nlohmann::json& result, std::string_view request_id,
                               const std::function<bool(std::string_view)>& is_timestamp);

// <ErrorResponse><Error><Type>Sender|Receiver</Type><Code>...</Code><Message>...</Message>...
std::string query_error_xml(std::string_view xml_namespace, std::string_view code,
                            std::string_view message, bool sender_fault,
                            std::string_view request_id);

}  // namespace dagster_dms::server
