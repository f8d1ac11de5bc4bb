#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace dagster_dms::server {

// Serializes an answer for the wire. Messages echo what the client sent (an operation name from
// the X-Amz-Target header, an identifier), and headers are not guaranteed UTF-8: invalid bytes
// become U+FFFD instead of making the serializer throw, so every answer keeps the AWS JSON shape.
std::string wire_json(const nlohmann::json& document);

}  // namespace dagster_dms::server
