// A child process whose stdin is a pipe the test writes to (e.g. kiln's console input), with
// stdout/stderr captured. Killed (SIGKILL, by its PID) and reaped at destruction if still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "child_process.h"

namespace kiln::test {

class InteractiveChild {
 public:
  explicit InteractiveChild(std::vector<std::string> argv);
  InteractiveChild(const InteractiveChild&) = delete;
  InteractiveChild& operator=(const InteractiveChild&) = delete;
  ~InteractiveChild();

  // Reads output until stdout holds `needle` at or after offset `from`, or the deadline passes.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout, size_t from = 0);
  // Writes all of `text` to the child's stdin; false if the child closed it.
  bool send(const std::string& text);
  void close_stdin();
  // Waits for exit; on time-out kills the child (SIGKILL) and sets timed_out.
  ChildResult wait(std::chrono::milliseconds timeout);
  [[nodiscard]] const std::string& out() const { return result_.out; }

 private:
  bool pump(std::chrono::milliseconds timeout);  // false when both output pipes are closed

  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  std::chrono::steady_clock::time_point start_;
  ChildResult result_;
};

}  // namespace kiln::test
