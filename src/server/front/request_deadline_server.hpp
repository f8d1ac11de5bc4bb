#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>

namespace dagster_dms::server {

// How long clients may take, whoever they are.
struct ConnectionLimits {
  // From the first byte of a request to the last byte of its body. A client that sends its
  // headers a line at a time ("slow loris") is cut off here instead of holding a thread for as
  // long as it keeps trickling.
  std::chrono::milliseconds request_read_deadline{15'000};
  // Threads serving connections at once (see ConnectionThreads).
  std::size_t max_connection_threads = 256;
};

// cpp-httplib's server with a total deadline for reading each request and a thread per
// connection. cpp-httplib bounds only the wait for each read (so one byte every few seconds keeps
// a connection forever) and serves from a fixed pool of eight threads; both are replaced here,
// and everything else (parsing, routing, keep-alive, answers) is cpp-httplib's.
class RequestDeadlineServer : public httplib::Server {
 public:
  explicit RequestDeadlineServer(ConnectionLimits limits);

 private:
  // cpp-httplib calls this for each accepted connection, on a thread of the task queue.
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
};

}  // namespace dagster_dms::server
