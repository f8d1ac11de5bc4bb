#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dagster_dms::aws {

// An absolute http(s) URL split into the parts the transport, the signer and endpoint resolution
// need. Userinfo and fragment are dropped: neither is ever sent to an AWS service.
struct Url {
  std::string scheme;       // lower-case
  std::string host;         // lower-case; an IPv6 literal keeps its brackets
  std::optional<int> port;  // only when written in the URL
  std::string path;         // as written (still percent-encoded); empty when absent
  std::string query;        // after '?', without it; empty when absent

  // The port actually used: the explicit one, else 80 for http and 443 for https.
  [[nodiscard]] int effective_port() const;
  // The Host header value: host, plus ":port" unless it is the scheme's default port.
  [[nodiscard]] std::string host_header() const;
};

// Parses "scheme://host[:port][/path][?query][#fragment]". Returns nullopt when the text is not an
// absolute URL with a host and a valid port; the scheme is not restricted here.
std::optional<Url> parse_url(std::string_view text);

// RFC 3986 percent-encoding as SigV4 wants it: every byte except A-Z a-z 0-9 - _ . ~ becomes %XX
// (upper-case hex); '/' is kept when `encode_slash` is false (paths) and encoded otherwise.
std::string uri_encode(std::string_view text, bool encode_slash);

// Decodes %XX escapes; a malformed escape is kept literally. '+' stays '+' (this is not form
// decoding).
std::string uri_decode(std::string_view text);

}  // namespace dagster_dms::aws
