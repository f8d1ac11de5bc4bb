#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

// How a request reached us; answers (errors included) go back the same way.
enum class Wire {
  kAwsJson,    // X-Amz-Target + application/x-amz-json-1.0/1.1 (DMS, Logs, CloudWatch)
  kRpcV2Cbor,  // POST /service/<Service>/operation/<Op>, smithy-protocol: rpc-v2-cbor
  kQuery,      // form-encoded Action=...&Version=..., XML answers (CloudWatch)
};

// The parts of an HTTP request that decide where it goes.
struct WireInput {
  std::string_view target;           // X-Amz-Target
  std::string_view path;             // request target without the query string
  std::string_view smithy_protocol;  // smithy-protocol header
  std::string_view content_type;
  std::string_view authorization;
  std::string_view body;
};

struct Route {
  Wire wire = Wire::kAwsJson;
  std::string signing_name;  // dms, monitoring, logs: the SigV4 service the signature must name
  std::string operation;     // known only after the body is read for the query protocol
  std::string json_content_type = "application/x-amz-json-1.1";
};

// Picks the service and protocol: the X-Amz-Target prefix for the JSON protocols, the path for
// RPC v2 CBOR, and for the query protocol (which names neither) the service in the SigV4
// credential scope. Throws ApiError (UnknownOperationException) for anything else.
Route route_request(const WireInput& input);

// The request body as a document with AWS member names; fills route.operation for the query
// protocol. Throws ApiError (SerializationException) for a body that does not parse.
nlohmann::json decode_request_body(Route& route, std::string_view body);

struct WireResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

WireResponse encode_result(const Route& route, const nlohmann::json& result,
                           std::string_view request_id);
WireResponse encode_error(const Route& route, const ApiError& error, std::string_view request_id);

}  // namespace dagster_dms::server
