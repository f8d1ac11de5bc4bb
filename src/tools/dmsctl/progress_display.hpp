#pragma once

#include <cstdio>
#include <string>

#include "orchestrate/runner.hpp"

namespace dagster_dms::dmsctl {

// Shows a wait's progress on stderr. On a terminal one line is redrawn in place on every poll
// (so the elapsed time keeps moving); otherwise, in logs and pipes, a plain line is written only
// when something other than the elapsed time changed, so a long wait does not flood the log.
class ProgressDisplay {
 public:
  // `live` is normally isatty(stderr); see for_stderr().
  ProgressDisplay(std::string label, bool live, std::FILE* out = stderr)
      : label_(std::move(label)), live_(live), out_(out) {}
  ~ProgressDisplay() { finish(); }
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  static ProgressDisplay for_stderr(std::string label);

  void update(const orchestrate::Progress& progress);
  // The same for any wait: `text` is what changed, `waited_seconds` the time so far.
  void show(const std::string& text, long long waited_seconds);
  // Ends the live line so what follows starts on a clean line. Safe to call more than once.
  void finish();

  // The text shown for one poll, without the elapsed time.
  static std::string describe(const orchestrate::Progress& progress);

 private:
  std::string label_;
  bool live_;
  std::FILE* out_;
  bool line_open_ = false;
  std::string last_;
};

// "42s", "3m05s", "1h02m03s".
std::string format_elapsed(long long seconds);

}  // namespace dagster_dms::dmsctl
