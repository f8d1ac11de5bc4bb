// The libcurl transport against a loopback server started in the test: a round trip, connection
// reuse, and how each kind of network failure maps to a TransportError kind.

#include "aws/curl_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#include "aws/errors.hpp"

namespace dagster_dms::aws {
namespace {

using std::chrono::milliseconds;

// RAII for a socket descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Fd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Fd listen_on_loopback(int& port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd.get(), 8) != 0) {
    throw std::runtime_error("cannot listen on loopback");
  }
  socklen_t size = sizeof address;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size);
  port = ntohs(address.sin_port);
  return fd;
}

// Reads one HTTP request (headers and a Content-Length body); empty when the peer closed.
std::string read_request(int fd) {
  std::string data;
  char buffer[4096];
  std::size_t body_needed = std::string::npos;
  for (;;) {
    if (body_needed != std::string::npos && data.size() >= body_needed) return data;
    const auto n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return {};
    data.append(buffer, static_cast<std::size_t>(n));
    const auto end = data.find("\r\n\r\n");
    if (end != std::string::npos && body_needed == std::string::npos) {
      std::size_t length = 0;
      const auto at = data.find("Content-Length: ");
      if (at != std::string::npos && at < end) length = std::stoul(data.substr(at + 16));
      body_needed = end + 4 + length;
    }
  }
}

void send_all(int fd, const std::string& data) {
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
}

// Accepts connections on a thread and hands each to `handler`.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int)> handler) : listener_(listen_on_loopback(port_)) {
    thread_ = std::thread([this, handler = std::move(handler)] {
      for (;;) {
        Fd client(::accept(listener_.get(), nullptr, nullptr));
        if (client.get() < 0 || stopping_) return;
        ++accepted_;
        handler(client.get());
      }
    });
  }
  ~LoopbackServer() {
    stopping_ = true;
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  [[nodiscard]] std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  [[nodiscard]] int accepted() const { return accepted_; }

 private:
  int port_ = 0;
  Fd listener_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

class CurlTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A proxy configured on the machine must not catch loopback traffic.
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);
    ::setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  }

  static TransportOptions options() {
    TransportOptions options;
    options.connect_timeout = milliseconds(2000);
    options.read_timeout = milliseconds(1000);
    options.user_agent = "dagster-dms/test";
    return options;
  }

  static TransportError::Kind kind_of_failure(CurlTransport& transport,
                                              const HttpRequest& request) {
    try {
      transport.send(request);
    } catch (const TransportError& e) {
      return e.kind();
    }
    ADD_FAILURE() << "expected a TransportError";
    return TransportError::Kind::kOther;
  }
};

TEST_F(CurlTransportTest, RoundTripWithHeadersAndBody) {
  std::string seen;
  LoopbackServer server([&](int fd) {
    seen = read_request(fd);
    send_all(fd,
             "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n"
             "x-amzn-RequestId: rid-1\r\nContent-Length: 2\r\n\r\n{}");
  });
  CurlTransport transport(options());
  HttpRequest request;
  request.url = server.url();
  request.headers.add("X-Amz-Target", "AmazonDMSv20160101.DescribeEndpoints");
  request.headers.add("Content-Type", "application/x-amz-json-1.1");
  request.body = std::string(2000, 'x');
  const auto response = transport.send(request);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body, "{}");
  EXPECT_EQ(response.headers.get("x-amzn-requestid"), "rid-1");
  EXPECT_NE(seen.find("POST / HTTP/1.1"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Amz-Target: AmazonDMSv20160101.DescribeEndpoints"), std::string::npos);
  EXPECT_NE(seen.find("User-Agent: dagster-dms/test"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("Expect:"), std::string::npos) << "no 100-continue: " << seen;
  EXPECT_NE(seen.find(std::string(2000, 'x')), std::string::npos);
}

TEST_F(CurlTransportTest, ReusesTheConnection) {
  LoopbackServer server([](int fd) {
    for (;;) {
      if (read_request(fd).empty()) return;
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    }
  });
  CurlTransport transport(options());
  HttpRequest request;
  request.url = server.url();
  request.body = "{}";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(transport.send(request).status, 200);
  EXPECT_EQ(server.accepted(), 1);
}

TEST_F(CurlTransportTest, ConnectionRefusedIsAConnectError) {
  int port = 0;
  { auto closed = listen_on_loopback(port); }  // nothing listens there any more
  CurlTransport transport(options());
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  EXPECT_EQ(kind_of_failure(transport, request), TransportError::Kind::kConnect);
}

TEST_F(CurlTransportTest, SilenceAfterTheRequestIsATimeout) {
  LoopbackServer server([](int fd) {
    read_request(fd);
    std::this_thread::sleep_for(milliseconds(2500));
  });
  CurlTransport transport(options());
  HttpRequest request;
  request.url = server.url();
  request.read_timeout = milliseconds(1000);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of_failure(transport, request), TransportError::Kind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2400));
}

TEST_F(CurlTransportTest, ClosedWithoutAnswerIsAConnectionReset) {
  LoopbackServer server([](int fd) { read_request(fd); });
  CurlTransport transport(options());
  HttpRequest request;
  request.url = server.url();
  const auto kind = kind_of_failure(transport, request);
  EXPECT_EQ(kind, TransportError::Kind::kConnectionReset);
  EXPECT_TRUE(TransportError(kind, "").ambiguous());
}

TEST_F(CurlTransportTest, ShortBodyIsTruncated) {
  LoopbackServer server([](int fd) {
    read_request(fd);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":");
  });
  CurlTransport transport(options());
  HttpRequest request;
  request.url = server.url();
  EXPECT_EQ(kind_of_failure(transport, request), TransportError::Kind::kTruncated);
}

TEST_F(CurlTransportTest, RejectsNonHttpUrls) {
  CurlTransport transport(options());
  HttpRequest request;
  request.url = "file:///etc/passwd";
  EXPECT_EQ(kind_of_failure(transport, request), TransportError::Kind::kOther);
}

}  // namespace
}  // namespace dagster_dms::aws
