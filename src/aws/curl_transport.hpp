#pragma once

#include <memory>

#include "aws/transport.hpp"

namespace dagster_dms::aws {

// The libcurl implementation of Transport: one easy handle per thread reused across requests
// (connection reuse), proxy variables honoured by libcurl itself (HTTPS_PROXY, HTTP_PROXY,
// NO_PROXY), TLS verification on unless options say otherwise, CA bundle from options.
class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(TransportOptions options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  HttpResponse send(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dagster_dms::aws
