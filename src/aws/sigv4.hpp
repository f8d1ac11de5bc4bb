#pragma once

#include <string>
#include <string_view>

#include "aws/clock.hpp"
#include "aws/credentials.hpp"
#include "aws/http.hpp"
#include "aws/secret.hpp"

namespace dagster_dms::aws {

// The algorithm named in the Authorization header and at the head of the string to sign.
inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";

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

// What a signature is valid for: `<yyyymmdd>/<region>/<service>/aws4_request`.
struct CredentialScope {
  std::string date;  // yyyymmdd, the first 8 characters of the request's X-Amz-Date
  std::string region;
  std::string service;
  [[nodiscard]] std::string to_string() const;
};

// The pieces, exposed for the test suites and for verification on the server side: the signer
// and dms-local's verifier build the canonical request, the string to sign and the signature
// with the same functions.
std::string string_to_sign(std::string_view amz_date, const CredentialScope& scope,
                           std::string_view canonical_request);
// The hex signature of `string_to_sign`, with the signing key derived from the secret for the
// scope (kDate, kRegion, kService, kSigning).
std::string signature(const Secret& secret_access_key, const CredentialScope& scope,
                      std::string_view string_to_sign);
std::string canonical_request(const HttpRequest& request, const std::string& signed_headers_csv,
                              const SigningParams& params, const std::string& payload_hash);
std::string sha256_hex(std::string_view data);
std::string format_amz_date(TimePoint time);  // 20150830T123600Z

}  // namespace dagster_dms::aws
