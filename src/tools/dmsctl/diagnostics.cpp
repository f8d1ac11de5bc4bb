#include "diagnostics.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "output.hpp"

namespace dagster_dms::dmsctl {
namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "read from a signal handler");

extern "C" void on_interrupt(int /*signal*/) {
  if (g_interrupted.exchange(true)) _exit(130);  // asked twice: do not make people wait
}

}  // namespace

void warn(const std::string& message) {
  fmt::print(stderr, "dmsctl: warning: {}\n", one_line(message));
}

void note(const std::string& message) {
  fmt::print(stderr, "dmsctl: note: {}\n", one_line(message));
}

void install_interrupt_handler() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

bool interrupted() {
  return g_interrupted.load();
}

}  // namespace dagster_dms::dmsctl
