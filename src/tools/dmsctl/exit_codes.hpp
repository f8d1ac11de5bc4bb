#pragma once

#include <stdexcept>
#include <string>

namespace dagster_dms::dmsctl {

// The exit codes are part of dmsctl's interface: scripts branch on them, so they never change
// meaning. Documented in `dmsctl --help`.
enum ExitCode : int {
  kExitOk = 0,
  // An AWS/API error, or a credentials, transport or configuration problem.
  kExitAwsError = 1,
  // The command line is wrong: unknown option, bad regular expression, bad --type.
  kExitUsage = 2,
  // A wait ran out of time before the task reached the goal.
  kExitTimedOut = 3,
  // The task (or the connection test) ended in failure.
  kExitFailed = 4,
  // Ctrl-C during a wait (128 + SIGINT, the shell convention); the task is left as it is.
  kExitInterrupted = 130,
};

// Thrown by a command for a mistake on the command line that CLI11 cannot see (a regular
// expression that does not compile, an unknown start type).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by a command that has already printed its result but must end with a non-zero code;
// the message is the one-line cause for stderr.
class CommandFailure : public std::runtime_error {
 public:
  CommandFailure(ExitCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  [[nodiscard]] ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

}  // namespace dagster_dms::dmsctl
