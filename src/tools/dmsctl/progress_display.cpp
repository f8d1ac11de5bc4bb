#include "progress_display.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace dagster_dms::dmsctl {

ProgressDisplay ProgressDisplay::for_stderr(std::string label) {
  return ProgressDisplay(std::move(label), isatty(STDERR_FILENO) == 1, stderr);
}

std::string ProgressDisplay::describe(const orchestrate::Progress& progress) {
  return fmt::format("{} ({}), {}% loaded; tables loaded {}, loading {}, queued {}, errored {}",
                     progress.status, orchestrate::to_string(progress.phase),
                     progress.percent ? std::to_string(*progress.percent) : std::string("-"),
                     progress.tables_loaded, progress.tables_loading, progress.tables_queued,
                     progress.tables_errored);
}

void ProgressDisplay::update(const orchestrate::Progress& progress) {
  show(describe(progress), progress.waited.count() / 1000);
}

void ProgressDisplay::show(const std::string& text, long long waited_seconds) {
  const std::string elapsed = format_elapsed(waited_seconds);
  if (live_) {
    // Carriage return + "erase to end of line" redraws the same line in place.
    fmt::print(out_, "\r\x1b[K{}: {} [{}]", label_, text, elapsed);
    std::fflush(out_);
    line_open_ = true;
    return;
  }
  if (text == last_) return;
  last_ = text;
  fmt::print(out_, "{}: {} [{}]\n", label_, text, elapsed);
  std::fflush(out_);
}

void ProgressDisplay::finish() {
  if (!line_open_) return;
  fmt::print(out_, "\n");
  std::fflush(out_);
  line_open_ = false;
}

std::string format_elapsed(long long seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 60) return fmt::format("{}s", seconds);
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m{:02}s", seconds / 3600, (seconds / 60) % 60, seconds % 60);
}

}  // namespace dagster_dms::dmsctl
