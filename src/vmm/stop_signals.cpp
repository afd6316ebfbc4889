#include "vmm/stop_signals.h"

#include <pthread.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace kiln {

Result<StopSignals> StopSignals::block() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigset_t old;
  if (int err = ::pthread_sigmask(SIG_BLOCK, &set, &old); err != 0) return fail_errno("pthread_sigmask", err);
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) {
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return fail_errno("signalfd", err);
  }
  return StopSignals(std::move(fd), old);
}

StopSignals::StopSignals(StopSignals&& other) noexcept
    : fd_(std::move(other.fd_)), old_mask_(other.old_mask_) {
  other.restore_ = false;
}

StopSignals::~StopSignals() {
  if (restore_) ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::optional<int> StopSignals::take() const {
  signalfd_siginfo info{};
  if (::read(fd_.get(), &info, sizeof(info)) != sizeof(info)) return std::nullopt;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace kiln
