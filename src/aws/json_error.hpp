#pragma once

#include <string_view>

#include "aws/errors.hpp"
#include "aws/http.hpp"
#include "aws/service_info.hpp"

namespace dagster_dms::aws {

// Turns a non-2xx answer of the AWS JSON protocols into a ServiceError. The code comes from the
// body's `__type` (namespace before '#' and anything after ':' removed), else `code` / `Code`,
// else the x-amzn-ErrorType header; the request id from x-amzn-RequestId or x-amz-request-id.
// A body that is not JSON (an HTML page from a proxy or load balancer) gives code "HTTP<status>"
// and a message saying so.
ServiceError parse_json_error(const ServiceInfo& service, std::string_view operation,
                              const HttpResponse& response);

// "aws.protocoltests#ThrottlingException:http://..." -> "ThrottlingException".
std::string normalize_error_code(std::string_view raw);

}  // namespace dagster_dms::aws
