// Raw mode for kiln's console terminal, restored on every exit path.
//
// Raw *input* (as a VMM console needs: every key, Ctrl-C and Enter included, goes to the guest
// unchanged; the guest's own line discipline echoes and edits), but output post-processing (OPOST,
// ONLCR) is kept so kiln's own "\n"-terminated log lines still render while the console is raw.
// The guest already sends "\r\n", which ONLCR leaves looking the same.
//
// Restoring: the destructor; std::atexit and std::at_quick_exit; and handlers for fatal signals
// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT, SIGPIPE) that restore the terminal and then hand
// the signal to whatever action was installed before (so sanitizers still report). Not covered:
// SIGKILL, and signals kiln handles itself (it should call restore_terminal_now() or destroy the
// RawTerminal on those paths).
#pragma once

#include <memory>

#include "common/result.h"

namespace kiln {

class RawTerminal {
 public:
  // Puts fd (normally STDIN_FILENO) into raw mode when it is a terminal; when it is not (a pipe,
  // /dev/null, CI), returns an inactive RawTerminal that does nothing. Only one RawTerminal may be
  // active per process; asking for a second is an error.
  [[nodiscard]] static Result<std::unique_ptr<RawTerminal>> try_enter(int fd);
  // As try_enter, but an error leaves the terminal alone and yields an inactive RawTerminal (never null).
  [[nodiscard]] static std::unique_ptr<RawTerminal> enter(int fd);

  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal();  // restores the saved settings when active

  [[nodiscard]] bool active() const { return active_; }

 private:
  explicit RawTerminal(bool active) : active_(active) {}
  bool active_;
};

// Restores the settings saved by the active RawTerminal, if any. Async-signal-safe (one tcsetattr on
// saved data) and idempotent; usable from signal handlers and exit hooks.
void restore_terminal_now() noexcept;

}  // namespace kiln
