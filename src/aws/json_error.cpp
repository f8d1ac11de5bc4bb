#include "aws/json_error.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

namespace dagster_dms::aws {

namespace {

std::string string_field(const nlohmann::json& body, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    const auto it = body.find(key);
    if (it != body.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

// A short, single-line excerpt of a body that is not JSON, so the message hints at who answered
// (a proxy's error page, a captive portal) without dumping a whole page.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 120;
  std::string out;
  bool space = false;
  for (const char ch : body) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isspace(c) != 0) {
      space = !out.empty();
      continue;
    }
    if (std::isprint(c) == 0) continue;
    if (space) out.push_back(' ');
    space = false;
    out.push_back(ch);
    if (out.size() >= kMax) {
      out += "...";
      break;
    }
  }
  return out;
}

}  // namespace

std::string normalize_error_code(std::string_view raw) {
  if (const auto hash = raw.rfind('#'); hash != std::string_view::npos) {
    raw = raw.substr(hash + 1);
  }
  if (const auto colon = raw.find(':'); colon != std::string_view::npos) {
    raw = raw.substr(0, colon);
  }
  while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.front())) != 0) {
    raw.remove_prefix(1);
  }
  while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back())) != 0) {
    raw.remove_suffix(1);
  }
  return std::string(raw);
}

ServiceError parse_json_error(const ServiceInfo& service, std::string_view operation,
                              const HttpResponse& response) {
  std::string request_id = response.headers.get("x-amzn-RequestId")
                               .value_or(response.headers.get("x-amz-request-id").value_or(""));
  std::string code;
  std::string message;

  bool body_is_json = true;
  nlohmann::json body;
  if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    body = nlohmann::json::object();
  } else {
    body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    body_is_json = body.is_object();
  }

  if (body_is_json) {
    code = normalize_error_code(string_field(body, {"__type", "code", "Code"}));
    message = string_field(body, {"message", "Message", "errorMessage"});
  }
  if (code.empty()) {
    if (auto header = response.headers.get("x-amzn-ErrorType")) {
      code = normalize_error_code(*header);
    }
  }
  if (code.empty()) code = "HTTP" + std::to_string(response.status);
  if (!body_is_json && message.empty()) {
    const auto type = response.headers.get("Content-Type").value_or("unknown content type");
    message = "the response body is not JSON (" + type +
              "); a proxy or load balancer may have answered instead of the service";
    if (const auto text = excerpt(response.body); !text.empty()) message += ": " + text;
  }
  return ServiceError(service.display_name, std::string(operation), std::move(code),
                      std::move(message), response.status, std::move(request_id));
}

}  // namespace dagster_dms::aws
