#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace dagster_dms::server {

// The Smithy RPC v2 CBOR protocol's bodies (what current botocore sends CloudWatch).
//
// Decoding drops tags: a tag-1 timestamp becomes its epoch-seconds number, which is how the JSON
// protocols carry timestamps too. An empty body is an empty structure. Throws
// std::invalid_argument for a body that is not CBOR.
nlohmann::json decode_cbor_body(std::string_view body);

// Both directions are ours: nlohmann's CBOR reader rejects tags 0-5 and its writer cannot emit
// tags, while Smithy marks every timestamp with tag 1 (epoch seconds) and botocore turns only
// tagged numbers into datetimes. A number whose member
// name `is_timestamp` accepts (or any element of such a list) is written with the tag.
std::string encode_cbor_body(const nlohmann::json& document,
                             const std::function<bool(std::string_view)>& is_timestamp);

}  // namespace dagster_dms::server
