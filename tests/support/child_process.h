// Runs a child process for tests: argv, stdin from /dev/null or a pipe the test writes to (e.g.
// kiln's console input), stdout/stderr captured, a deadline, and a kill by PID (only of the child
// it started) when the deadline passes. A test that fails prints the tail of its children's
// output (child_output_log.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace kiln::test {

struct ChildResult {
  int exit_status = -1;  // exit code, or 128 + signal when killed by a signal
  bool timed_out = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

enum class ChildStdin { kNull, kPipe };

class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv, ChildStdin stdin_mode = ChildStdin::kNull);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // kills (SIGKILL) and reaps the child if it still runs

  // Reads output until stdout holds `needle` at or after offset `from`, or the deadline passes;
  // true if seen.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout, size_t from = 0);
  // ChildStdin::kPipe only: writes all of `text` to the child's stdin; false if it is closed.
  bool send(const std::string& text);
  void close_stdin();
  void send_signal(int signo);
  // Waits for exit; on time-out kills the child with SIGKILL and sets timed_out.
  ChildResult wait(std::chrono::milliseconds timeout);
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::string& out() const { return result_.out; }
  // What has been collected so far (all of it once wait() returned).
  [[nodiscard]] const ChildResult& result() const { return result_; }

 private:
  // Drains the pipes for up to `timeout`; returns false when both pipes are closed.
  bool pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  std::chrono::steady_clock::time_point start_;
  ChildResult result_;
};

// Told of every child started and finished (child_output_log.cpp installs them in test binaries;
// null elsewhere, e.g. in the benchmarks).
struct ChildHooks {
  void (*started)(const ChildProcess* child, std::string command) = nullptr;
  void (*finished)(const ChildProcess* child, const ChildResult& result) = nullptr;
};
void set_child_hooks(ChildHooks hooks);

// Runs argv to completion (or the deadline).
ChildResult run_child(std::vector<std::string> argv, std::chrono::milliseconds timeout);

}  // namespace kiln::test
