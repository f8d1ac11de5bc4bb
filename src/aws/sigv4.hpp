#pragma once

#include <string>

#include "aws/clock.hpp"
#include "aws/credentials.hpp"
#include "aws/http.hpp"

namespace dagster_dms::aws {

struct SigningParams {
  std::string region;
  std::string service;  // signing name, e.g. "dms"
  TimePoint time;
  // S3 signs the path as given; every other service normalizes and double-encodes it.
  bool normalize_path = true;
  bool double_encode_path = true;
  // Adds and signs X-Amz-Content-Sha256 (S3 style). Off for the JSON protocols.
  bool add_content_sha256_header = false;
};

// The intermediate results, kept for tests and for dms-local's verifier.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;
};

// Signs `request` in place with AWS Signature Version 4 in the Authorization header: adds Host (if
// absent), X-Amz-Date and, for temporary credentials, X-Amz-Security-Token; signs every header
// except those botocore leaves out (user-agent, expect, transfer-encoding, x-amzn-trace-id).
SigningResult sign_request(HttpRequest& request, const Credentials& credentials,
                           const SigningParams& params);

// The pieces, exposed for the test suites and for verification on the server side.
std::string canonical_request(const HttpRequest& request, const std::string& signed_headers_csv,
                              const SigningParams& params, const std::string& payload_hash);
std::string sha256_hex(std::string_view data);
std::string format_amz_date(TimePoint time);  // 20150830T123600Z

}  // namespace dagster_dms::aws
