#include "server/front/request_deadline_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "server/front/connection_threads.hpp"

namespace dagster_dms::server {

namespace {

using Clock = std::chrono::steady_clock;

// Waits are cut into slices so a stopping server is noticed promptly.
constexpr std::chrono::milliseconds kPollSlice{100};

// One connection's socket as cpp-httplib reads and writes it, with the request deadline applied
// to every read. Reads are buffered: cpp-httplib reads the request line and headers a byte at a
// time.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, std::chrono::milliseconds read_wait,
                 std::chrono::milliseconds write_wait, const std::atomic<socket_t>& listener)
      : sock_(sock), read_wait_(read_wait), write_wait_(write_wait), listener_(listener) {}

  // The next request must be read completely by `deadline`.
  void start_request(Clock::time_point deadline) { deadline_ = deadline; }
  [[nodiscard]] bool has_buffered_input() const { return position_ < filled_; }

  // Waits up to `wait` (and never past the request deadline when reading) for the socket.
  [[nodiscard]] bool wait_for(short events, std::chrono::milliseconds wait,
                              bool bounded_by_deadline) const {
    auto until = Clock::now() + wait;
    if (bounded_by_deadline && deadline_ < until) until = deadline_;
    for (;;) {
      if (listener_.load() == INVALID_SOCKET) return false;  // the server is stopping
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      pollfd descriptor{sock_, events, 0};
      const int ready =
          ::poll(&descriptor, 1, static_cast<int>(std::min(left, kPollSlice).count()));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) return false;
    }
  }

  bool is_readable() const override {
    return has_buffered_input() || wait_for(POLLIN, read_wait_, true);
  }
  bool is_writable() const override { return wait_for(POLLOUT, write_wait_, false); }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered_input()) {
      if (!is_readable()) return -1;
      const auto received = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      if (received <= 0) return received;
      position_ = 0;
      filled_ = static_cast<std::size_t>(received);
    }
    const auto count = std::min(size, filled_ - position_);
    std::memcpy(ptr, buffer_.data() + position_, count);
    position_ += count;
    return static_cast<ssize_t>(count);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(&getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(&getsockname, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  void address_of(int (*query)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (query(sock_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
    std::array<char, NI_MAXHOST> host{};
    std::array<char, NI_MAXSERV> service{};
    if (getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host.data(), host.size(),
                    service.data(), service.size(), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
      ip = host.data();
      port = std::atoi(service.data());
    }
  }

  socket_t sock_;
  std::chrono::milliseconds read_wait_;
  std::chrono::milliseconds write_wait_;
  const std::atomic<socket_t>& listener_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::array<char, 4096> buffer_{};
  std::size_t position_ = 0;
  std::size_t filled_ = 0;
};

std::chrono::milliseconds seconds_and_micros(time_t seconds, time_t micros) {
  return std::chrono::seconds(seconds) +
         std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(micros));
}

}  // namespace

RequestDeadlineServer::RequestDeadlineServer(ConnectionLimits limits) : limits_(limits) {
  new_task_queue = [max_threads = limits.max_connection_threads]() -> httplib::TaskQueue* {
    // cpp-httplib takes ownership of the queue it is given (and deletes it after listening).
    return std::make_unique<ConnectionThreads>(max_threads).release();
  };
}

bool RequestDeadlineServer::process_and_close_socket(socket_t sock) {
  DeadlineStream stream(sock, seconds_and_micros(read_timeout_sec_, read_timeout_usec_),
                        seconds_and_micros(write_timeout_sec_, write_timeout_usec_), svr_sock_);
  bool served = false;
  // Keep-alive as cpp-httplib does it: up to keep_alive_max_count_ requests, each awaited for at
  // most keep_alive_timeout_sec_.
  for (std::size_t left = keep_alive_max_count_; left > 0; --left) {
    if (!stream.has_buffered_input() &&
        !stream.wait_for(POLLIN, std::chrono::seconds(keep_alive_timeout_sec_), false)) {
      break;
    }
    stream.start_request(Clock::now() + limits_.request_read_deadline);
    bool connection_closed = false;
    served = process_request(stream, left == 1, connection_closed, nullptr);
    if (!served || connection_closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return served;
}

}  // namespace dagster_dms::server
