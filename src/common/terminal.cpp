#include "common/terminal.h"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>

namespace kiln {

namespace {

// Process-wide state read by signal handlers: written only while g_saved_valid is false.
termios g_saved{};
int g_fd = -1;
std::atomic<bool> g_saved_valid{false};
static_assert(std::atomic<bool>::is_always_lock_free, "read from signal handlers");

std::mutex g_enter_mu;  // serialises try_enter and ~RawTerminal (never taken in a signal handler)

constexpr std::array kFatalSignals{SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT, SIGPIPE};
std::array<struct sigaction, kFatalSignals.size()> g_previous{};

void restore_at_exit() { restore_terminal_now(); }

void on_fatal_signal(int sig, siginfo_t* info, void* /*context*/) {
  const int saved_errno = errno;
  restore_terminal_now();
  for (size_t i = 0; i < kFatalSignals.size(); ++i) {
    if (kFatalSignals[i] == sig) ::sigaction(sig, &g_previous[i], nullptr);
  }
  // A fault raised by the CPU repeats when we return and reaches the previous action with its real
  // siginfo; anything else is sent again (it stays blocked until we return).
  const bool hardware_fault = sig != SIGABRT && sig != SIGQUIT && sig != SIGPIPE && info != nullptr && info->si_code > 0;
  if (!hardware_fault) ::raise(sig);
  errno = saved_errno;
}

void install_exit_hooks() {
  std::atexit(restore_at_exit);
  std::at_quick_exit(restore_at_exit);
  struct sigaction sa {};
  sa.sa_sigaction = on_fatal_signal;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < kFatalSignals.size(); ++i) {
    struct sigaction old {};
    if (::sigaction(kFatalSignals[i], nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_IGN) continue;  // e.g. SIGPIPE ignored on purpose: leave it so
    g_previous[i] = old;
    ::sigaction(kFatalSignals[i], &sa, nullptr);
  }
}

// Raw input, as cfmakeraw, but with c_oflag (OPOST/ONLCR) and c_cflag left as they are.
termios make_raw(termios t) {
  t.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cc[VMIN] = 1;  // read() returns as soon as one byte is there
  t.c_cc[VTIME] = 0;
  return t;
}

}  // namespace

void restore_terminal_now() noexcept {
  if (g_saved_valid.load(std::memory_order_acquire)) (void)::tcsetattr(g_fd, TCSANOW, &g_saved);
}

Result<std::unique_ptr<RawTerminal>> RawTerminal::try_enter(int fd) {
  if (::isatty(fd) == 0) return std::unique_ptr<RawTerminal>(new RawTerminal(false));
  std::lock_guard lock(g_enter_mu);
  if (g_saved_valid.load(std::memory_order_relaxed)) return fail("terminal: raw mode is already on");
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) return fail_errno("terminal: tcgetattr");
  const termios raw = make_raw(saved);

  static std::once_flag hooks_once;
  std::call_once(hooks_once, install_exit_hooks);
  g_saved = saved;
  g_fd = fd;
  g_saved_valid.store(true, std::memory_order_release);  // from here on every exit path restores

  auto undo = [] {
    restore_terminal_now();
    g_saved_valid.store(false, std::memory_order_release);
  };
  if (::tcsetattr(fd, TCSANOW, &raw) != 0) {
    const int err = errno;
    undo();
    return fail_errno("terminal: tcsetattr", err);
  }
  // tcsetattr succeeds if any one change took effect (termios(3)), so check the ones that matter.
  termios now{};
  if (::tcgetattr(fd, &now) != 0 || (now.c_lflag & (ICANON | ECHO | ISIG)) != 0) {
    undo();
    return fail("terminal: raw mode did not take effect");
  }
  return std::unique_ptr<RawTerminal>(new RawTerminal(true));
}

std::unique_ptr<RawTerminal> RawTerminal::enter(int fd) {
  auto t = try_enter(fd);
  if (!t) return std::unique_ptr<RawTerminal>(new RawTerminal(false));
  return std::move(*t);
}

RawTerminal::~RawTerminal() {
  if (!active_) return;
  std::lock_guard lock(g_enter_mu);
  restore_terminal_now();
  g_saved_valid.store(false, std::memory_order_release);
}

}  // namespace kiln
