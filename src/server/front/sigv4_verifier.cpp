#include "server/front/sigv4_verifier.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "aws/errors.hpp"
#include "aws/sigv4.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

using aws::kSigV4Algorithm;

ApiError incomplete(const std::string& message) {
  return {400, "IncompleteSignatureException", message};
}
ApiError invalid_signature(const std::string& message) {
  return {403, "InvalidSignatureException", message};
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// The parts of "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
struct AuthorizationParts {
  std::string credential;
  std::string signed_headers;
  std::string signature;
};

AuthorizationParts parse_authorization(const std::string& header, bool has_date) {
  if (header.rfind(kSigV4Algorithm, 0) != 0) {
    throw incomplete(
        fmt::format("Unsupported authorization type. Only {} is supported.", kSigV4Algorithm));
  }
  AuthorizationParts parts;
  std::string_view rest = std::string_view(header).substr(kSigV4Algorithm.size());
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string pair = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    if (eq == std::string::npos) {
      throw incomplete(fmt::format(
          "'{}' not a valid key=value pair (missing equal-sign) in Authorization header.", pair));
    }
    const std::string key = pair.substr(0, eq);
    const std::string value = pair.substr(eq + 1);
    if (key == "Credential") parts.credential = value;
    if (key == "SignedHeaders") parts.signed_headers = value;
    if (key == "Signature") parts.signature = value;
  }
  std::string missing;
  if (parts.credential.empty()) missing += "Authorization header requires 'Credential' parameter. ";
  if (parts.signature.empty()) missing += "Authorization header requires 'Signature' parameter. ";
  if (parts.signed_headers.empty()) {
    missing += "Authorization header requires 'SignedHeaders' parameter. ";
  }
  if (!has_date) {
    missing +=
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (!missing.empty()) throw incomplete(missing + "Authorization=" + std::string(kSigV4Algorithm));
  return parts;
}

// An entry's "actions": a list of IAM action patterns. An empty list is allowed (a key that may
// call nothing is a fair least-privilege test); a missing one means everything.
std::shared_ptr<const ActionPolicy> read_actions(const std::filesystem::path& file,
                                                 std::size_t entry_index,
                                                 const nlohmann::json& actions) {
  const auto problem = [&](const std::string& what) {
    return std::runtime_error(
        fmt::format("credentials file {}: entry {}: {}", file.string(), entry_index, what));
  };
  if (!actions.is_array()) {
    throw problem(
        "\"actions\" must be a list of IAM actions such as [\"dms:DescribeReplicationTasks\", "
        "\"logs:GetLogEvents\"]");
  }
  std::vector<std::string> patterns;
  for (const auto& action : actions) {
    if (!action.is_string()) throw problem("every item of \"actions\" must be a string");
    patterns.push_back(action.get<std::string>());
  }
  try {
    return std::make_shared<const ActionPolicy>(std::move(patterns));
  } catch (const std::invalid_argument& error) {
    throw problem(std::string("in \"actions\": ") + error.what());
  }
}

// A pair in the default account, named after its access key, that may call everything.
KeyPair unrestricted_key_pair(std::string access_key_id, aws::Secret secret_access_key) {
  std::string user_name = access_key_id;
  return KeyPair{.access_key_id = std::move(access_key_id),
                 .secret_access_key = std::move(secret_access_key),
                 .account_id = "000000000000",
                 .user_name = std::move(user_name),
                 .actions = std::make_shared<const ActionPolicy>(ActionPolicy::allow_all())};
}

}  // namespace

bool is_valid_region_name(std::string_view region) {
  if (region.empty() || region.size() > kMaxRegionLength) return false;
  if (region.front() < 'a' || region.front() > 'z' || region.back() == '-') return false;
  return region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") ==
         std::string_view::npos;
}

KeyPair default_key_pair() {
  return unrestricted_key_pair("test", aws::Secret("test"));
}

std::vector<KeyPair> load_key_pairs(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read credentials file " + file.string());
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error("credentials file " + file.string() + " is not valid JSON");
  }
  if (!document.is_array()) {
    throw std::runtime_error("credentials file " + file.string() +
                             " must hold a JSON list of key pairs");
  }
  std::vector<KeyPair> out;
  for (std::size_t i = 0; i < document.size(); ++i) {
    const auto& entry = document[i];
    const auto text = [&](const char* name) -> std::string {
      if (!entry.is_object() || !entry.contains(name) || !entry[name].is_string() ||
          entry[name].get<std::string>().empty()) {
        throw std::runtime_error(fmt::format("credentials file {}: entry {} needs a string \"{}\"",
                                             file.string(), i, name));
      }
      return entry[name].get<std::string>();
    };
    KeyPair pair =
        unrestricted_key_pair(text("access_key_id"), aws::Secret(text("secret_access_key")));
    if (entry.contains("account_id")) {
      pair.account_id = text("account_id");
      if (pair.account_id.size() != 12 ||
          pair.account_id.find_first_not_of("0123456789") != std::string::npos) {
        throw std::runtime_error(
            fmt::format("credentials file {}: entry {} has an account_id that is not 12 digits",
                        file.string(), i));
      }
    }
    if (entry.contains("user_name")) pair.user_name = text("user_name");
    if (entry.contains("actions")) pair.actions = read_actions(file, i, entry["actions"]);
    out.push_back(std::move(pair));
  }
  return out;
}

std::optional<aws::TimePoint> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  std::tm tm{};
  const std::string copy(text);
  const char* end = strptime(copy.c_str(), "%Y%m%dT%H%M%SZ", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  // A clock's nanosecond count overflows outside about 1678-2262; no signer sends such dates, so
  // they are malformed rather than merely skewed.
  const int year = tm.tm_year + 1900;
  if (year < 1970 || year > 2200) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

SigV4Verifier::SigV4Verifier(std::vector<KeyPair> key_pairs, const aws::Clock& clock)
    : clock_(clock) {
  for (auto& pair : key_pairs) {
    const std::string id = pair.access_key_id;
    key_pairs_.insert_or_assign(id, std::move(pair));
  }
}

Caller SigV4Verifier::verify(const aws::HttpRequest& request,
                             std::string_view expected_service) const {
  const auto authorization = request.headers.get("Authorization");
  if (!authorization) {
    throw ApiError(400, "MissingAuthenticationTokenException", "Missing Authentication Token");
  }
  auto amz_date = request.headers.get("X-Amz-Date");
  const auto parts = parse_authorization(*authorization, amz_date.has_value());
  if (!amz_date) {
    // Only the X-Amz-Date form is supported; every AWS SDK sends it.
    throw incomplete("Date header is not supported; sign the request with an X-Amz-Date header.");
  }

  // Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request
  std::vector<std::string> scope;
  std::size_t start = 0;
  while (true) {
    const auto slash = parts.credential.find('/', start);
    scope.push_back(parts.credential.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (scope.size() != 5 || scope[4] != "aws4_request" || scope[0].empty()) {
    throw incomplete(fmt::format(
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got '{}'",
        scope.empty() ? std::string() : parts.credential.substr(parts.credential.find('/') + 1)));
  }
  const auto pair = key_pairs_.find(scope[0]);
  if (pair == key_pairs_.end()) {
    throw ApiError(403, "UnrecognizedClientException",
                   "The security token included in the request is invalid.");
  }

  const auto signed_at = parse_amz_date(*amz_date);
  if (!signed_at) {
    throw incomplete(fmt::format("Date must be in ISO-8601 'basic format'. Got '{}'.", *amz_date));
  }
  const auto now = clock_.now();
  if (*signed_at < now - kMaxSkew) {
    throw invalid_signature(
        fmt::format("Signature expired: {} is now earlier than {} ({} - 15 min.)", *amz_date,
                    aws::format_amz_date(now - kMaxSkew), aws::format_amz_date(now)));
  }
  if (*signed_at > now + kMaxSkew) {
    throw invalid_signature(
        fmt::format("Signature not yet current: {} is still later than {} ({} + 15 min.)",
                    *amz_date, aws::format_amz_date(now + kMaxSkew), aws::format_amz_date(now)));
  }
  if (scope[1] != amz_date->substr(0, 8)) {
    throw invalid_signature(fmt::format(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '{}' != '{}', from '{}'.",
        scope[1], amz_date->substr(0, 8), *amz_date));
  }
  if (!is_valid_region_name(scope[2])) {
    throw invalid_signature(fmt::format(
        "Credential should be scoped to a valid region: lowercase letters, digits and hyphens, "
        "starting with a letter, at most {} characters (such as us-east-1).",
        kMaxRegionLength));
  }
  if (scope[3] != expected_service) {
    throw invalid_signature(
        fmt::format("Credential should be scoped to correct service: '{}'.", expected_service));
  }

  const std::string& signed_headers = parts.signed_headers;
  const auto is_signed = [&](std::string_view name) {
    return (";" + signed_headers + ";").find(fmt::format(";{};", name)) != std::string::npos;
  };
  if (!is_signed("host")) {
    throw invalid_signature(
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // Headers that decide what the request does must be signed too, or a captured request could
  // be replayed with another operation (X-Amz-Target), date or body format. Every AWS SDK signs
  // them.
  for (const auto& [name, shown] :
       {std::pair{"x-amz-date", "X-Amz-Date"}, std::pair{"x-amz-target", "X-Amz-Target"},
        std::pair{"content-type", "Content-Type"}}) {
    if (request.headers.get(shown) && !is_signed(name)) {
      throw invalid_signature(
          fmt::format("'{}' must be a 'SignedHeader' in the AWS Authorization.", shown));
    }
  }

  aws::SigningParams params;
  params.region = scope[2];
  params.service = scope[3];
  params.time = *signed_at;
  std::string payload_hash = aws::sha256_hex(request.body);
  if (auto declared = request.headers.get("X-Amz-Content-Sha256");
      declared && *declared == "UNSIGNED-PAYLOAD") {
    payload_hash = *declared;
  }
  std::string canonical;
  try {
    canonical = aws::canonical_request(request, signed_headers, params, payload_hash);
  } catch (const aws::Error&) {
    // The URL is built from the client's Host header and request target; one that does not parse
    // (a port that is not a number) cannot have been signed. An answer, not a server failure.
    throw invalid_signature(
        "The Host header and request path do not form a URL that can be signed.");
  }
  const aws::CredentialScope credential_scope{scope[1], scope[2], scope[3]};
  const std::string expected =
      aws::signature(pair->second.secret_access_key, credential_scope,
                     aws::string_to_sign(*amz_date, credential_scope, canonical));

  // Constant time, so response timing does not reveal how much of a guess was right.
  if (expected.size() != parts.signature.size() ||
      CRYPTO_memcmp(expected.data(), parts.signature.data(), expected.size()) != 0) {
    throw invalid_signature(
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.");
  }
  const KeyPair& key = pair->second;
  return Caller{key.access_key_id, key.account_id, key.user_name, key.actions, scope[2], scope[3]};
}

}  // namespace dagster_dms::server
