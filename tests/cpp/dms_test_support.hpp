#pragma once

// A session wired to a scripted transport, for the typed client tests: every call the client
// makes is answered from the script and recorded with its operation name and JSON body.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "aws/client_options.hpp"
#include "aws/environment.hpp"
#include "aws/session.hpp"
#include "fake_transport.hpp"
#include "plumbing_fakes.hpp"

namespace dagster_dms::testing {

struct RecordedCall {
  std::string operation;  // from X-Amz-Target, without the service prefix
  nlohmann::json body;
};

class ClientHarness {
 public:
  ClientHarness() {
    aws::ClientOptions options;
    options.region = "us-east-1";
    options.endpoint_url = "http://127.0.0.1:1";
    options.access_key_id = "test";
    options.secret_access_key = aws::Secret("test");
    // One attempt: the scripts say exactly what each call gets.
    options.max_attempts = 1;
    auto env = std::make_shared<aws::MapEnvironment>();
    env->set("AWS_CONFIG_FILE", "/nonexistent/dagster-dms-test/config");
    env->set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/dagster-dms-test/credentials");
    session = aws::Session::create(options, {env, clock, transport});
  }

  void reply(const nlohmann::json& body) { transport->push_response(200, body.dump()); }
  void fail(long status, const std::string& code, const std::string& message) {
    transport->push_response(status, nlohmann::json{{"__type", code}, {"message", message}}.dump(),
                             {{"Content-Type", "application/x-amz-json-1.1"}});
  }
  void fail(aws::TransportError error) { transport->push_error(std::move(error)); }

  [[nodiscard]] std::vector<RecordedCall> calls() const {
    std::vector<RecordedCall> out;
    for (const auto& request : transport->requests()) {
      std::string target = request.headers.get("X-Amz-Target").value_or("");
      const auto dot = target.find('.');
      if (dot != std::string::npos) target = target.substr(dot + 1);
      out.push_back({target, request.body.empty() ? nlohmann::json::object()
                                                  : nlohmann::json::parse(request.body)});
    }
    return out;
  }

  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<aws::testing::FakeClock> clock = std::make_shared<aws::testing::FakeClock>();
  std::shared_ptr<aws::Session> session;
};

}  // namespace dagster_dms::testing
