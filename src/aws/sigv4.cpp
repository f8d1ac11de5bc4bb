#include "aws/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <set>
#include <utility>
#include <vector>

#include "aws/errors.hpp"
#include "aws/url.hpp"

namespace dagster_dms::aws {

namespace {

// Headers botocore leaves out of the signature: hop-by-hop headers a proxy may rewrite, and
// headers that tools add or change after signing.
constexpr std::array<std::string_view, 14> kUnsignedHeaders = {
    "baggage",    "connection",         "expect",
    "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te",         "traceparent",        "tracestate",
    "trailer",    "transfer-encoding",  "upgrade",
    "user-agent", "x-amzn-trace-id",
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0x0F]);
  }
  return out;
}

using Digest = std::array<unsigned char, 32>;

Digest hmac_sha256(std::string_view key, std::string_view message) {
  Digest out{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
           &size) == nullptr ||
      size != out.size()) {
    throw Error("HMAC-SHA256 failed in OpenSSL");
  }
  return out;
}

std::string_view as_view(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

// SigV4's Trimall: drop leading and trailing whitespace and fold every inner run of whitespace
// (including the line breaks of an obsolete folded header) into one space.
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (const char ch : value) {
    if (std::isspace(static_cast<unsigned char>(ch)) != 0) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(ch);
  }
  return out;
}

// RFC 3986 section 5.2.4 plus the AWS rule that empty segments collapse (botocore's
// remove_dot_segments).
std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    const auto segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) out += '/';
  return out;
}

std::string canonical_uri(std::string_view path, const SigningParams& params) {
  std::string result = params.normalize_path ? normalize_path(path) : std::string(path);
  if (result.empty()) result = "/";
  if (params.double_encode_path) return uri_encode(result, /*encode_slash=*/false);
  // S3 style: the path is already encoded once; only encode what would not be valid in a URL.
  std::string out;
  for (const char ch : result) {
    if (ch == '%') {
      out.push_back(ch);
    } else {
      out += uri_encode(std::string_view(&ch, 1), /*encode_slash=*/false);
    }
  }
  return out;
}

// Every pair is decoded and re-encoded, so a query that arrives raw or already encoded
// canonicalizes the same way; pairs sort by encoded key, then encoded value.
std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    const auto amp = query.find('&', start);
    const auto end = amp == std::string_view::npos ? query.size() : amp;
    const auto pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      const auto key = pair.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      pairs.emplace_back(uri_encode(uri_decode(key), true), uri_encode(uri_decode(value), true));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

std::string signed_headers_of(const HttpRequest& request) {
  std::set<std::string> names;
  for (const auto& header : request.headers) {
    auto name = lower(header.name);
    if (name == "authorization") continue;
    if (std::find(kUnsignedHeaders.begin(), kUnsignedHeaders.end(), name) !=
        kUnsignedHeaders.end()) {
      continue;
    }
    names.insert(std::move(name));
  }
  names.insert("host");
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

}  // namespace

std::string CredentialScope::to_string() const {
  return date + "/" + region + "/" + service + "/aws4_request";
}

std::string string_to_sign(std::string_view amz_date, const CredentialScope& scope,
                           std::string_view canonical_request) {
  return std::string(kSigV4Algorithm) + "\n" + std::string(amz_date) + "\n" + scope.to_string() +
         "\n" + sha256_hex(canonical_request);
}

std::string signature(const Secret& secret_access_key, const CredentialScope& scope,
                      std::string_view string_to_sign) {
  const auto k_date = hmac_sha256("AWS4" + secret_access_key.reveal(), scope.date);
  const auto k_region = hmac_sha256(as_view(k_date), scope.region);
  const auto k_service = hmac_sha256(as_view(k_region), scope.service);
  const auto k_signing = hmac_sha256(as_view(k_service), "aws4_request");
  const auto digest = hmac_sha256(as_view(k_signing), string_to_sign);
  return to_hex(digest.data(), digest.size());
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw Error("SHA-256 failed in OpenSSL");
  }
  return to_hex(digest.data(), size);
}

std::string format_amz_date(TimePoint time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 17> buffer{};
  std::strftime(buffer.data(), buffer.size(), "%Y%m%dT%H%M%SZ", &utc);
  return buffer.data();
}

std::string canonical_request(const HttpRequest& request, const std::string& signed_headers_csv,
                              const SigningParams& params, const std::string& payload_hash) {
  const auto url = parse_url(request.url);
  if (!url) throw Error("Cannot sign a request whose URL is not absolute: " + request.url);

  std::string out = request.method;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  out += '\n';
  out += canonical_uri(url->path, params);
  out += '\n';
  out += canonical_query(url->query);
  out += '\n';

  std::size_t start = 0;
  while (start < signed_headers_csv.size()) {
    auto end = signed_headers_csv.find(';', start);
    if (end == std::string::npos) end = signed_headers_csv.size();
    const std::string name = signed_headers_csv.substr(start, end - start);
    std::string values;
    bool found = false;
    for (const auto& header : request.headers) {
      if (!iequals(header.name, name)) continue;
      if (found) values += ',';
      values += trim_all(header.value);
      found = true;
    }
    if (!found && name == "host") values = url->host_header();
    out += name;
    out += ':';
    out += values;
    out += '\n';
    start = end + 1;
  }
  out += '\n';
  out += signed_headers_csv;
  out += '\n';
  out += payload_hash;
  return out;
}

SigningResult sign_request(HttpRequest& request, const Credentials& credentials,
                           const SigningParams& params) {
  const auto url = parse_url(request.url);
  if (!url) throw Error("Cannot sign a request whose URL is not absolute: " + request.url);

  // A retried request is signed again from scratch.
  request.headers.remove("Authorization");
  if (!request.headers.contains("Host")) request.headers.set("Host", url->host_header());
  const std::string amz_date = format_amz_date(params.time);
  request.headers.set("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.set("X-Amz-Security-Token", credentials.session_token.reveal());
  }
  std::string payload_hash;
  if (auto given = request.headers.get("X-Amz-Content-Sha256")) {
    payload_hash = *given;  // e.g. UNSIGNED-PAYLOAD, chosen by the caller
  } else {
    payload_hash = sha256_hex(request.body);
    if (params.add_content_sha256_header) {
      request.headers.set("X-Amz-Content-Sha256", payload_hash);
    }
  }

  SigningResult result;
  const std::string signed_headers = signed_headers_of(request);
  result.canonical_request = canonical_request(request, signed_headers, params, payload_hash);

  const CredentialScope scope{amz_date.substr(0, 8), params.region, params.service};
  result.string_to_sign = string_to_sign(amz_date, scope, result.canonical_request);
  result.signature = signature(credentials.secret_access_key, scope, result.string_to_sign);
  result.authorization = std::string(kSigV4Algorithm) + " Credential=" + credentials.access_key_id +
                         "/" + scope.to_string() + ", SignedHeaders=" + signed_headers +
                         ", Signature=" + result.signature;
  request.headers.set("Authorization", result.authorization);
  return result;
}

}  // namespace dagster_dms::aws
