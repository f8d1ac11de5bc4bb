#pragma once

#include <stdexcept>
#include <string>

namespace dagster_dms::aws {

// The root of everything the core throws on purpose. Messages never hold secrets.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error answer from an AWS service: keeps the AWS code, message, HTTP status and request id.
class ServiceError : public Error {
 public:
  ServiceError(std::string service, std::string operation, std::string code, std::string message,
               long http_status, std::string request_id);

  [[nodiscard]] const std::string& service() const { return service_; }
  [[nodiscard]] const std::string& operation() const { return operation_; }
  [[nodiscard]] const std::string& code() const { return code_; }
  [[nodiscard]] const std::string& aws_message() const { return aws_message_; }
  [[nodiscard]] long http_status() const { return http_status_; }
  [[nodiscard]] const std::string& request_id() const { return request_id_; }

  [[nodiscard]] bool is_throttling() const;
  [[nodiscard]] bool is_access_denied() const;

 private:
  std::string service_, operation_, code_, aws_message_;
  long http_status_;
  std::string request_id_;
};

// No HTTP response came back (or it was unreadable as HTTP).
class TransportError : public Error {
 public:
  enum class Kind { kConnect, kTimeout, kConnectionReset, kTls, kTruncated, kOther };
  TransportError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
  [[nodiscard]] Kind kind() const { return kind_; }
  // After a timeout or reset the server may have acted on the request.
  [[nodiscard]] bool ambiguous() const { return kind_ != Kind::kConnect && kind_ != Kind::kTls; }

 private:
  Kind kind_;
};

// A response arrived but was not what the protocol promises (malformed JSON, missing fields).
class ProtocolError : public Error {
 public:
  using Error::Error;
};

// No credentials could be found, or a configured source failed to produce them.
class CredentialsError : public Error {
 public:
  using Error::Error;
};

// Configuration that cannot work: no region, unknown profile, bad retry mode, bad endpoint URL.
class ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace dagster_dms::aws
