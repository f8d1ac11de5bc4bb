#pragma once

#include <string>

namespace dagster_dms::dmsctl {

// Prints "dmsctl: warning: ..." on stderr, on one line.
void warn(const std::string& message);
// Prints "dmsctl: note: ..." on stderr, on one line.
void note(const std::string& message);

// Waits call this before they start: the first Ctrl-C (or SIGTERM) then asks the wait to give
// up cleanly (the task is left as it is, exit code 130); a second one ends dmsctl at once.
// Commands that do not wait keep the default handling, so Ctrl-C always works.
void install_interrupt_handler();
// Whether an interrupt arrived since install_interrupt_handler().
bool interrupted();

}  // namespace dagster_dms::dmsctl
