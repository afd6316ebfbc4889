#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

#include "common/terminal.h"
#include "common/unique_fd.h"

namespace kiln {
namespace {

// A pseudo-terminal pair; slave is a real tty for RawTerminal to work on.
struct Pty {
  UniqueFd master;
  UniqueFd slave;
};

std::optional<Pty> open_pty() {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) return std::nullopt;
  const char* name = ::ptsname(master.get());
  if (name == nullptr) return std::nullopt;
  UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return std::nullopt;
  return Pty{std::move(master), std::move(slave)};
}

termios attrs(int fd) {
  termios t{};
  EXPECT_EQ(::tcgetattr(fd, &t), 0);
  return t;
}

bool same(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_lflag == b.c_lflag && a.c_cflag == b.c_cflag &&
         std::equal(std::begin(a.c_cc), std::end(a.c_cc), std::begin(b.c_cc));
}

bool is_raw(const termios& t) {
  return (t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)) == 0 && (t.c_iflag & (ICRNL | IXON)) == 0 &&
         t.c_cc[VMIN] == 1 && t.c_cc[VTIME] == 0;
}

TEST(Terminal, NotATtyDoesNothing) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  auto t = RawTerminal::try_enter(r.get());
  ASSERT_TRUE(t);
  ASSERT_NE(*t, nullptr);
  EXPECT_FALSE((*t)->active());
  auto u = RawTerminal::enter(r.get());
  ASSERT_NE(u, nullptr);
  EXPECT_FALSE(u->active());
  auto bad = RawTerminal::enter(-1);  // not even a file descriptor
  EXPECT_FALSE(bad->active());
  restore_terminal_now();  // nothing saved: harmless
}

TEST(Terminal, RawInputKeepsOutputProcessingAndRestores) {
  auto pty = open_pty();
  if (!pty) GTEST_SKIP() << "no pseudo-terminals here";
  const termios before = attrs(pty->slave.get());
  ASSERT_NE(before.c_lflag & ICANON, 0u);  // a fresh pty is cooked
  {
    auto t = RawTerminal::try_enter(pty->slave.get());
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_TRUE((*t)->active());
    const termios raw = attrs(pty->slave.get());
    EXPECT_TRUE(is_raw(raw));
    EXPECT_EQ(raw.c_oflag, before.c_oflag);  // OPOST/ONLCR kept: "\n" still renders
    EXPECT_NE(raw.c_oflag & OPOST, 0u);
    EXPECT_EQ(raw.c_cflag, before.c_cflag);
  }
  EXPECT_TRUE(same(attrs(pty->slave.get()), before));
}

TEST(Terminal, OnlyOneRawTerminalAtATime) {
  auto pty = open_pty();
  if (!pty) GTEST_SKIP() << "no pseudo-terminals here";
  auto first = RawTerminal::try_enter(pty->slave.get());
  ASSERT_TRUE(first);
  EXPECT_FALSE(RawTerminal::try_enter(pty->slave.get()));
  EXPECT_FALSE(RawTerminal::enter(pty->slave.get())->active());
  first->reset();
  auto again = RawTerminal::try_enter(pty->slave.get());
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->active());
}

TEST(Terminal, EmergencyRestoreWorksWhileActive) {
  auto pty = open_pty();
  if (!pty) GTEST_SKIP() << "no pseudo-terminals here";
  const termios before = attrs(pty->slave.get());
  auto t = RawTerminal::enter(pty->slave.get());
  ASSERT_TRUE(t->active());
  restore_terminal_now();
  EXPECT_TRUE(same(attrs(pty->slave.get()), before));
  restore_terminal_now();  // idempotent
  t.reset();
  EXPECT_TRUE(same(attrs(pty->slave.get()), before));
}

// Kept alive (and reachable, for LeakSanitizer) so that only the exit hooks can restore the terminal.
RawTerminal* g_never_destroyed = nullptr;

// Runs `body` in a child that puts the pty into raw mode and never destroys the RawTerminal;
// returns the child's wait status.
template <typename Body>
int run_child_in_raw_mode(int slave_fd, Body body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    g_never_destroyed = RawTerminal::enter(slave_fd).release();
    if (!g_never_destroyed->active() || !is_raw(attrs(slave_fd))) ::_exit(42);
    body();
    ::_exit(43);
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

TEST(Terminal, RestoredAtExit) {
  auto pty = open_pty();
  if (!pty) GTEST_SKIP() << "no pseudo-terminals here";
  const termios before = attrs(pty->slave.get());
  const int status = run_child_in_raw_mode(pty->slave.get(), [] { std::exit(7); });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_TRUE(same(attrs(pty->slave.get()), before));
}

TEST(Terminal, RestoredOnAbortAndTheSignalStillKills) {
  auto pty = open_pty();
  if (!pty) GTEST_SKIP() << "no pseudo-terminals here";
  const termios before = attrs(pty->slave.get());
  const int status = run_child_in_raw_mode(pty->slave.get(), [] { std::abort(); });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
  EXPECT_TRUE(same(attrs(pty->slave.get()), before));
}

TEST(Terminal, RestoredOnACrash) {
  auto pty = open_pty();
  if (!pty) GTEST_SKIP() << "no pseudo-terminals here";
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer reports SIGSEGV itself and exits";
#endif
  const termios before = attrs(pty->slave.get());
  const int status = run_child_in_raw_mode(pty->slave.get(), [] {
    volatile int* volatile p = nullptr;
    *p = 1;  // a real SIGSEGV from the CPU
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  EXPECT_TRUE(same(attrs(pty->slave.get()), before));
}

}  // namespace
}  // namespace kiln
