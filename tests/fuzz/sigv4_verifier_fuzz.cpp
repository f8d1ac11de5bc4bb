// Fuzzes dms-local's SigV4 verification: Authorization header parsing, the credential scope,
// X-Amz-Date parsing and the canonical request built from a URL, headers and body an attacker
// controls.
//
// An input reads like an HTTP request: "METHOD TARGET" on the first line, "Name: value" header
// lines, an empty line, then the body. As in the HTTP front, the URL is "http://" + Host header +
// target. An ApiError (a rejection) is a correct answer; a crash, a sanitizer report or any other
// exception escaping is a bug. When the input's Authorization header ends in "Signature=SIGN",
// the request is signed with the test key first, so the verifier's accepting path is fuzzed too.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "aws/clock.hpp"
#include "aws/credentials.hpp"
#include "aws/errors.hpp"
#include "aws/http.hpp"
#include "aws/sigv4.hpp"
#include "fixed_clock.hpp"
#include "server/front/api_error.hpp"
#include "server/front/sigv4_verifier.hpp"
#include "server/front/wire_json.hpp"

namespace server = dagster_dms::server;
namespace aws = dagster_dms::aws;
using dagster_dms::fuzz::FixedClock;

namespace {

std::string_view next_line(std::string_view& input) {
  const auto newline = input.find('\n');
  std::string_view line = input.substr(0, newline);
  input.remove_prefix(newline == std::string_view::npos ? input.size() : newline + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The date botocore's and aws-c-auth's suites sign at (20150830T123600Z).
  static FixedClock clock{std::chrono::seconds(1'440'938'160)};
  static const server::SigV4Verifier verifier({server::default_key_pair()}, clock);

  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view request_line = next_line(input);
  const auto space = request_line.find(' ');
  aws::HttpRequest request;
  request.method = std::string(request_line.substr(0, space));
  const std::string target =
      space == std::string_view::npos ? "/" : std::string(request_line.substr(space + 1));
  std::string host;
  bool sign = false;
  while (!input.empty()) {
    const std::string_view line = next_line(input);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "Authorization" && value.ends_with("Signature=SIGN")) {
      sign = true;
      continue;
    }
    if (name == "Host") host = std::string(value);
    request.headers.add(name, std::string(value));
  }
  request.body = std::string(input);
  request.url = "http://" + (host.empty() ? std::string("localhost") : host) +
                (target.empty() ? std::string("/") : target);

  if (sign) {
    aws::Credentials credentials;
    credentials.access_key_id = "test";
    credentials.secret_access_key = aws::Secret("test");
    aws::SigningParams params;
    params.region = "us-east-1";
    params.service = "dms";
    params.time = clock.now();
    try {
      (void)aws::sign_request(request, credentials, params);
    } catch (const aws::Error&) {
      return 0;  // the client side refuses to sign this URL; nothing reaches the verifier
    }
  }
  try {
    const auto caller = verifier.verify(request, "dms");
    if (sign && caller.access_key_id != "test") std::abort();
  } catch (const server::ApiError& error) {
    (void)server::wire_json(error.body());
  } catch (const std::exception& error) {
    // The HTTP front would answer 500 InternalFailure for a request a client sent.
    std::cerr << "non-ApiError exception: " << error.what() << '\n';
    std::abort();
  }
  return 0;
}
