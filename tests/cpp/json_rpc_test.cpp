// The AWS JSON protocol client against a scripted transport: request shape and signing, error
// parsing, the retry policy (including operations that must not be repeated after an ambiguous
// failure), malformed answers, and that no secret reaches an exception message.

#include "aws/json_rpc.hpp"

#include <gtest/gtest.h>

#include "aws/errors.hpp"
#include "aws/json_error.hpp"
#include "plumbing_fakes.hpp"

namespace dagster_dms::aws {
namespace {

using testing::FakeClock;
using testing::json_response;
using testing::ScriptedTransport;

constexpr const char* kKeyId = "AKIDJSONRPCTEST";
constexpr const char* kSecret = "sEcReT/jsonrpc+key0123456789";
constexpr const char* kToken = "SeSsIoNtOkEn-jsonrpc-0123456789";

class JsonRpcTest : public ::testing::Test {
 protected:
  void SetUp() override { rebuild({}); }

  void rebuild(ClientOptions options) {
    options.region = options.region.value_or("us-east-1");
    options.access_key_id = kKeyId;
    options.secret_access_key = Secret(kSecret);
    options.session_token = Secret(kToken);
    options.max_attempts = options.max_attempts.value_or(3);
    auto env = std::make_shared<MapEnvironment>();
    env->set("HOME", "/nonexistent-home");
    env->set("AWS_CONFIG_FILE", "/nonexistent-home/config");
    env->set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent-home/credentials");
    transport = std::make_shared<ScriptedTransport>();
    clock = std::make_shared<FakeClock>();
    session = Session::create(options, {env, clock, transport});
    client = std::make_unique<JsonRpcClient>(session, dms_service());
    client->set_observer([this](const CallEvent& event) {
      events.push_back({event.attempt, event.http_status, std::string(event.error_code)});
    });
  }

  static HttpResponse error(long status, const std::string& type, const std::string& message) {
    return json_response(status, nlohmann::json{{"__type", type}, {"message", message}}.dump(),
                         {{"x-amzn-RequestId", "req-123"}});
  }

  // Runs `call` expecting an exception of type E, and checks no secret is in its message.
  template <typename E, typename F>
  E expect_throw(F&& call) {
    try {
      call();
    } catch (const E& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find(kSecret), std::string::npos) << what;
      EXPECT_EQ(what.find(kToken), std::string::npos) << what;
      EXPECT_EQ(what.find("Signature="), std::string::npos) << what;
      return e;
    }
    ADD_FAILURE() << "expected an exception";
    throw std::logic_error("no exception");
  }

  struct Event {
    int attempt;
    long status;
    std::string code;
  };

  std::shared_ptr<ScriptedTransport> transport;
  std::shared_ptr<FakeClock> clock;
  std::shared_ptr<Session> session;
  std::unique_ptr<JsonRpcClient> client;
  std::vector<Event> events;
};

TEST_F(JsonRpcTest, SendsASignedJsonRequestToTheServiceEndpoint) {
  transport->push(json_response(200, R"({"ReplicationTasks": []})"));
  const auto result =
      client->call("DescribeReplicationTasks", {{"MaxRecords", 20}, {"Marker", "m"}});
  EXPECT_EQ(result, nlohmann::json::parse(R"({"ReplicationTasks": []})"));

  ASSERT_EQ(transport->sent().size(), 1U);
  const HttpRequest& request = transport->sent()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://dms.us-east-1.amazonaws.com/");
  EXPECT_EQ(request.headers.get("Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(request.headers.get("X-Amz-Target"), "AmazonDMSv20160101.DescribeReplicationTasks");
  EXPECT_EQ(nlohmann::json::parse(request.body),
            (nlohmann::json{{"MaxRecords", 20}, {"Marker", "m"}}));
  EXPECT_EQ(request.headers.get("X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(request.headers.get("X-Amz-Security-Token"), kToken);
  const auto authorization = request.headers.get("Authorization").value_or("");
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDJSONRPCTEST/20150830/us-east-1/"
                                "dms/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                                "x-amz-security-token;x-amz-target, Signature=",
                                0),
            0U)
      << authorization;
  EXPECT_EQ(client->counters().requests, 1);
  EXPECT_EQ(client->counters().retries, 0);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].status, 200);
}

TEST_F(JsonRpcTest, CloudWatchUsesJson10AndItsOwnTarget) {
  JsonRpcClient cloudwatch(session, cloudwatch_service());
  transport->push(json_response(200, "{}"));
  cloudwatch.call("GetMetricData", nlohmann::json::object());
  const HttpRequest& request = transport->sent().at(0);
  EXPECT_EQ(request.url, "https://monitoring.us-east-1.amazonaws.com/");
  EXPECT_EQ(request.headers.get("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(request.headers.get("X-Amz-Target"), "GraniteServiceVersion20100801.GetMetricData");
  EXPECT_NE(request.headers.get("Authorization")->find("/monitoring/aws4_request"),
            std::string::npos);
}

TEST_F(JsonRpcTest, ExplicitEndpointGetsARootPath) {
  ClientOptions options;
  options.endpoint_url = "http://127.0.0.1:4566";
  rebuild(options);
  transport->push(json_response(200, "{}"));
  client->call("DescribeEndpoints", nlohmann::json::object());
  EXPECT_EQ(transport->sent().at(0).url, "http://127.0.0.1:4566/");
}

TEST_F(JsonRpcTest, EmptySuccessBodyIsAnEmptyObject) {
  transport->push(json_response(200, ""));
  EXPECT_EQ(client->call("StopReplicationTask", {{"ReplicationTaskArn", "arn"}}),
            nlohmann::json::object());
}

TEST_F(JsonRpcTest, NullInputSendsAnEmptyObject) {
  transport->push(json_response(200, "{}"));
  client->call("DescribeReplicationInstances", nullptr);
  EXPECT_EQ(transport->sent().at(0).body, "{}");
}

TEST_F(JsonRpcTest, ServiceErrorCarriesCodeMessageStatusAndRequestId) {
  transport->push(error(400, "ResourceNotFoundFault", "No Tasks found matching provided filters"));
  const auto e = expect_throw<ServiceError>(
      [&] { client->call("DescribeReplicationTasks", nlohmann::json::object()); });
  EXPECT_EQ(e.code(), "ResourceNotFoundFault");
  EXPECT_EQ(e.aws_message(), "No Tasks found matching provided filters");
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_EQ(e.request_id(), "req-123");
  EXPECT_EQ(e.service(), "DMS");
  EXPECT_EQ(e.operation(), "DescribeReplicationTasks");
  EXPECT_STREQ(
      e.what(),
      "DMS DescribeReplicationTasks failed: ResourceNotFoundFault: No Tasks found matching "
      "provided filters (HTTP 400, request id req-123)");
  EXPECT_EQ(transport->sent().size(), 1U) << "a client error is not retried";
}

struct ErrorForm {
  const char* name;
  HttpResponse response;
  const char* code;
  const char* message;
  const char* request_id;
};

TEST(JsonErrorParsing, AllTheFormsAwsUses) {
  const std::vector<ErrorForm> forms = {
      {"namespaced __type",
       json_response(400,
                     R"({"__type":"com.amazonaws.dms#InvalidResourceStateFault","message":"m1"})"),
       "InvalidResourceStateFault", "m1", ""},
      {"__type with a URI suffix",
       json_response(
           400, R"({"__type":"AccessDeniedException:http://internal.amazon.com/","Message":"m2"})"),
       "AccessDeniedException", "m2", ""},
      {"both namespace and suffix",
       json_response(400, R"({"__type":"aws.protocoltests#Throttling:http://x/y","message":"m3"})"),
       "Throttling", "m3", ""},
      {"lower-case code",
       json_response(400, R"({"code":"ValidationException","message":"m4"})",
                     {{"x-amz-request-id", "rid-4"}}),
       "ValidationException", "m4", "rid-4"},
      {"upper-case Code and Message",
       json_response(403, R"({"Code":"UnrecognizedClientException","Message":"m5"})"),
       "UnrecognizedClientException", "m5", ""},
      {"code only in x-amzn-ErrorType",
       json_response(400, "{}",
                     {{"x-amzn-ErrorType", "ResourceNotFoundException:http://internal/"},
                      {"x-amzn-RequestId", "rid-6"}}),
       "ResourceNotFoundException", "", "rid-6"},
      {"empty body", json_response(503, ""), "HTTP503", "", ""},
  };
  for (const auto& form : forms) {
    SCOPED_TRACE(form.name);
    const auto e = parse_json_error(dms_service(), "Op", form.response);
    EXPECT_EQ(e.code(), form.code);
    EXPECT_EQ(e.aws_message(), form.message);
    EXPECT_EQ(e.request_id(), form.request_id);
    EXPECT_EQ(e.http_status(), form.response.status);
  }
}

TEST(JsonErrorParsing, HtmlFromAProxyGivesAClearError) {
  const auto e = parse_json_error(
      dms_service(), "DescribeEndpoints",
      json_response(502,
                    "<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>",
                    {{"Content-Type", "text/html"}}));
  EXPECT_EQ(e.code(), "HTTP502");
  EXPECT_NE(e.aws_message().find("not JSON"), std::string::npos) << e.aws_message();
  EXPECT_NE(e.aws_message().find("text/html"), std::string::npos) << e.aws_message();
  EXPECT_NE(std::string(e.what()).find("502 Bad Gateway"), std::string::npos) << e.what();
}

TEST(ServiceErrorKinds, ThrottlingAndAccessDenied) {
  EXPECT_TRUE(
      ServiceError("DMS", "Op", "ThrottlingException", "Rate exceeded", 400, "").is_throttling());
  EXPECT_TRUE(ServiceError("DMS", "Op", "SlowDown", "", 503, "").is_throttling());
  EXPECT_TRUE(ServiceError("DMS", "Op", "HTTP429", "", 429, "").is_throttling());
  EXPECT_FALSE(ServiceError("DMS", "Op", "ValidationException", "", 400, "").is_throttling());
  EXPECT_TRUE(ServiceError("DMS", "Op", "AccessDeniedException", "", 400, "").is_access_denied());
  EXPECT_TRUE(ServiceError("DMS", "Op", "AccessDeniedFault", "", 400, "").is_access_denied());
  EXPECT_TRUE(ServiceError("EC2", "Op", "UnauthorizedOperation", "", 403, "").is_access_denied());
  EXPECT_FALSE(
      ServiceError("DMS", "Op", "UnrecognizedClientException", "", 403, "").is_access_denied());
  EXPECT_STREQ(ServiceError("DMS", "Op", "HTTP500", "", 500, "").what(),
               "DMS Op failed: HTTP500 (HTTP 500)");
}

TEST_F(JsonRpcTest, RetriesThrottlingThenSucceeds) {
  transport->push(error(400, "ThrottlingException", "Rate exceeded"));
  transport->push(json_response(200, "{}"));
  client->call("DescribeReplicationTasks", nlohmann::json::object());
  EXPECT_EQ(client->counters().requests, 2);
  EXPECT_EQ(client->counters().retries, 1);
  EXPECT_EQ(client->counters().throttled, 1);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0].attempt, 1);
  EXPECT_EQ(events[0].code, "ThrottlingException");
  EXPECT_EQ(events[1].attempt, 2);
  EXPECT_EQ(events[1].code, "");
  EXPECT_EQ(clock->sleeps().size(), 1U);
  // Each attempt is signed afresh.
  EXPECT_EQ(transport->sent()[0].headers.get("Authorization").has_value(), true);
}

TEST_F(JsonRpcTest, RetriesServerErrorsAndConnectionErrors) {
  transport->push(json_response(500, R"({"__type":"InternalFailure"})"));
  transport->push(TransportError(TransportError::Kind::kConnect, "refused"));
  transport->push(json_response(200, R"({"ok": true})"));
  EXPECT_EQ(client->call("DescribeEndpoints", nlohmann::json::object()),
            nlohmann::json::parse(R"({"ok": true})"));
  EXPECT_EQ(client->counters().requests, 3);
  EXPECT_EQ(events[1].code, "ConnectError");
}

TEST_F(JsonRpcTest, RetriesTimeoutsForIdempotentCalls) {
  transport->push(TransportError(TransportError::Kind::kTimeout, "timed out"));
  transport->push(TransportError(TransportError::Kind::kConnectionReset, "reset"));
  transport->push(json_response(200, "{}"));
  client->call("DescribeEndpoints", nlohmann::json::object());
  EXPECT_EQ(client->counters().requests, 3);
}

TEST_F(JsonRpcTest, StopsAtMaxAttempts) {
  for (int i = 0; i < 3; ++i) transport->push(json_response(503, "", {}));
  const auto e = expect_throw<ServiceError>(
      [&] { client->call("DescribeEndpoints", nlohmann::json::object()); });
  EXPECT_EQ(e.code(), "HTTP503");
  EXPECT_EQ(transport->sent().size(), 3U);
  EXPECT_EQ(clock->sleeps().size(), 2U);
}

TEST_F(JsonRpcTest, MaxAttemptsFromOptions) {
  ClientOptions options;
  options.max_attempts = 5;
  rebuild(options);
  for (int i = 0; i < 5; ++i) transport->push(error(400, "ThrottlingException", "Rate exceeded"));
  expect_throw<ServiceError>([&] { client->call("DescribeEndpoints", nlohmann::json::object()); });
  EXPECT_EQ(transport->sent().size(), 5U);
  EXPECT_EQ(client->counters().throttled, 5);
}

TEST_F(JsonRpcTest, NonIdempotentCallIsNotRepeatedAfterATimeout) {
  transport->push(TransportError(TransportError::Kind::kTimeout, "timed out"));
  transport->push(json_response(200, "{}"));
  const auto e = expect_throw<TransportError>([&] {
    client->call("StartReplicationTask", {{"ReplicationTaskArn", "arn"}},
                 Retryability::kNotAfterAmbiguousFailure);
  });
  EXPECT_EQ(e.kind(), TransportError::Kind::kTimeout);
  EXPECT_EQ(transport->sent().size(), 1U);
}

TEST_F(JsonRpcTest, NonIdempotentCallIsNotRepeatedAfterAServerError) {
  transport->push(json_response(500, R"({"__type":"InternalFailure"})"));
  transport->push(json_response(200, "{}"));
  expect_throw<ServiceError>([&] {
    client->call("StopReplicationTask", {{"ReplicationTaskArn", "arn"}},
                 Retryability::kNotAfterAmbiguousFailure);
  });
  EXPECT_EQ(transport->sent().size(), 1U);
}

TEST_F(JsonRpcTest, NonIdempotentCallIsRetriedWhenTheRequestWasNotActedOn) {
  transport->push(TransportError(TransportError::Kind::kConnect, "connection refused"));
  transport->push(error(400, "ThrottlingException", "Rate exceeded"));
  transport->push(json_response(200, R"({"ReplicationTask": {}})"));
  client->call("StartReplicationTask", {{"ReplicationTaskArn", "arn"}},
               Retryability::kNotAfterAmbiguousFailure);
  EXPECT_EQ(transport->sent().size(), 3U);
}

TEST_F(JsonRpcTest, MalformedSuccessBodyIsAProtocolErrorNamingTheCall) {
  transport->push(json_response(200, "<html>not json"));
  const auto e = expect_throw<ProtocolError>(
      [&] { client->call("DescribeReplicationTasks", nlohmann::json::object()); });
  EXPECT_NE(std::string(e.what()).find("DMS DescribeReplicationTasks"), std::string::npos)
      << e.what();
  EXPECT_EQ(transport->sent().size(), 1U);
}

TEST_F(JsonRpcTest, NonObjectSuccessBodyIsAProtocolError) {
  transport->push(json_response(200, "[1, 2]"));
  expect_throw<ProtocolError>([&] { client->call("DescribeEndpoints", nlohmann::json::object()); });
}

TEST_F(JsonRpcTest, NoSecretInAnyErrorMessage) {
  // Error bodies that echo request details must still not carry the signing secrets: the client
  // never puts them anywhere but the signed headers.
  transport->push(error(403, "InvalidSignatureException",
                        "The request signature we calculated does not match"));
  expect_throw<ServiceError>([&] { client->call("DescribeEndpoints", nlohmann::json::object()); });
  transport->push(TransportError(TransportError::Kind::kTls, "TLS failure with https://dms"));
  transport->push(TransportError(TransportError::Kind::kTls, "TLS failure with https://dms"));
  transport->push(TransportError(TransportError::Kind::kTls, "TLS failure with https://dms"));
  expect_throw<TransportError>(
      [&] { client->call("DescribeEndpoints", nlohmann::json::object()); });
  transport->push(json_response(200, "{"));
  expect_throw<ProtocolError>([&] { client->call("DescribeEndpoints", nlohmann::json::object()); });
}

TEST_F(JsonRpcTest, NonRetryableErrorIsThrownAtOnce) {
  transport->push(
      error(400, "AccessDeniedException", "not authorized to perform dms:StartReplicationTask"));
  const auto e = expect_throw<ServiceError>(
      [&] { client->call("StartReplicationTask", nlohmann::json::object()); });
  EXPECT_TRUE(e.is_access_denied());
  EXPECT_EQ(transport->sent().size(), 1U);
  EXPECT_TRUE(clock->sleeps().empty());
}

}  // namespace
}  // namespace dagster_dms::aws
