#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dagster_dms::aws {

struct HttpHeader {
  std::string name;
  std::string value;
};

// An ordered header list with case-insensitive lookup, as HTTP defines header names.
class HttpHeaders {
 public:
  HttpHeaders() = default;
  HttpHeaders(std::initializer_list<HttpHeader> headers) : headers_(headers) {}

  // The first value of `name`, if present.
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }
  // Replaces every header called `name` with one header.
  void set(std::string_view name, std::string value);
  void add(std::string name, std::string value);
  void remove(std::string_view name);

  [[nodiscard]] const std::vector<HttpHeader>& all() const { return headers_; }
  [[nodiscard]] auto begin() const { return headers_.begin(); }
  [[nodiscard]] auto end() const { return headers_.end(); }
  [[nodiscard]] bool empty() const { return headers_.empty(); }

 private:
  std::vector<HttpHeader> headers_;
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;  // absolute: scheme://host[:port]/path[?query]
  HttpHeaders headers;
  std::string body;
  // Per-request overrides of the transport's timeouts (IMDS wants about one second).
  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<std::chrono::milliseconds> read_timeout;
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;
  std::string body;
};

bool iequals(std::string_view a, std::string_view b);

}  // namespace dagster_dms::aws
