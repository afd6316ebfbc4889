// Why a VM stopped, and the process exit status that goes with it.
#pragma once

#include <cstring>
#include <string>

#include <fmt/format.h>

#include "common/result.h"

namespace kiln {

enum class StopKind {
  kGuestReset,     // i8042 reset, triple fault, KVM_SYSTEM_EVENT_RESET
  kGuestShutdown,  // KVM_SYSTEM_EVENT_SHUTDOWN
  kSignal,         // SIGINT / SIGTERM / SIGHUP to kiln
  kUserQuit,       // console escape (Ctrl-A x)
  kGuestError,     // emulation failure, failed entry, internal error
  kVmmError,       // a kiln-side failure while running
};

struct StopReason {
  StopKind kind = StopKind::kVmmError;
  std::string message;
  int signal = 0;
};

inline StopReason signal_stop(int signo) {
  return {StopKind::kSignal, fmt::format("stopped by signal {} ({})", signo, ::strsignal(signo)), signo};
}

// Exit statuses of `kiln run` (documented in --help and README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitVmmError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitGuestError = 3;

inline int exit_status(const StopReason& r) {
  switch (r.kind) {
    case StopKind::kGuestReset:
    case StopKind::kGuestShutdown:
    case StopKind::kUserQuit:
      return kExitOk;
    case StopKind::kSignal:
      return 128 + r.signal;
    case StopKind::kGuestError:
      return kExitGuestError;
    case StopKind::kVmmError:
      return kExitVmmError;
  }
  return kExitVmmError;
}

// A VM that cannot be built or restored: a usage error when what the user gave cannot be used
// (ErrorKind::kConfig: a file that is not a kernel or does not fit the memory, a snapshot that
// does not decode), else a kiln error.
inline int exit_status(const Error& e) { return e.kind == ErrorKind::kConfig ? kExitUsage : kExitVmmError; }

}  // namespace kiln
