#include "aws/process_provider.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "aws/errors.hpp"
#include "aws/provider_support.hpp"

extern char** environ;

namespace dagster_dms::aws {

namespace {

// Enough of stderr to say what went wrong; a runaway process must not fill the message.
constexpr std::size_t kMaxStderrInMessage = 2000;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read_end;
  Fd write_end;
};

Pipe make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    throw CredentialsError(
        fmt::format("credential_process: cannot create a pipe: {}", std::strerror(errno)));
  }
  return {Fd(fds[0]), Fd(fds[1])};
}

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_{};
};

struct ProcessResult {
  int exit_status = 0;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};

ProcessResult run_shell(const std::string& command) {
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  SpawnActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(actions.get(), out.write_end.get(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), err.write_end.get(), 2);

  std::string shell = "/bin/sh";
  std::string flag = "-c";
  std::string command_copy = command;
  std::array<char*, 4> argv{shell.data(), flag.data(), command_copy.data(), nullptr};
  pid_t pid = 0;
  if (int rc = posix_spawn(&pid, "/bin/sh", actions.get(), nullptr, argv.data(), environ);
      rc != 0) {
    throw CredentialsError(
        fmt::format("credential_process: cannot start /bin/sh: {}", std::strerror(rc)));
  }
  out.write_end.reset();
  err.write_end.reset();

  // Read both streams together so a child filling one pipe never blocks on the other.
  ProcessResult result;
  std::array<pollfd, 2> fds{pollfd{out.read_end.get(), POLLIN, 0},
                            pollfd{err.read_end.get(), POLLIN, 0}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open_streams = 2;
  std::array<char, 4096> buffer{};
  while (open_streams > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        sinks[i]->append(buffer.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_status = 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace

std::optional<Credentials> ProcessProvider::resolve() {
  const std::string source = fmt::format("credential_process of profile {}", profile_);
  ProcessResult result = run_shell(command_);
  if (result.exit_status != 0) {
    std::string err = provider_support::trim(result.err);
    if (err.size() > kMaxStderrInMessage) err = err.substr(0, kMaxStderrInMessage) + "...";
    throw CredentialsError(
        fmt::format("Error when retrieving credentials from {}: exit status {}{}{}", source,
                    result.exit_status, err.empty() ? "" : ": ", err));
  }
  nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw CredentialsError(fmt::format("{} did not print a JSON object", source));
  }
  auto version = parsed.find("Version");
  if (version == parsed.end() || !version->is_number_integer() || version->get<int>() != 1) {
    throw CredentialsError(
        fmt::format("{} printed an unsupported Version: only Version 1 is understood", source));
  }
  return provider_support::credentials_from_json(parsed, source, name());
}

}  // namespace dagster_dms::aws
