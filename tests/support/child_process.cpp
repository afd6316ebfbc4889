#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <stdexcept>

extern char** environ;

namespace kiln::test {
namespace {

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

ChildHooks hooks;  // zero-initialised before any constructor runs

}  // namespace

void set_child_hooks(ChildHooks h) { hooks = h; }

ChildProcess::ChildProcess(std::vector<std::string> argv, ChildStdin stdin_mode) {
  int in_pipe[2] = {-1, -1};
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) < 0 || ::pipe2(err_pipe, O_CLOEXEC) < 0) throw std::runtime_error("pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_mode == ChildStdin::kPipe) {
    // A write after the child exits must fail with EPIPE, not kill the test.
    ::signal(SIGPIPE, SIG_IGN);
    if (::pipe2(in_pipe, O_CLOEXEC) < 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  start_ = std::chrono::steady_clock::now();
  if (hooks.started != nullptr) {
    std::string command;
    for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
    hooks.started(this, std::move(command));
  }
  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (in_pipe[0] >= 0) ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  in_fd_ = in_pipe[1];
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (rc != 0) {
    pid_ = -1;
    reaped_ = true;
    result_.err = std::string("posix_spawn failed for ") + argv[0];
  }
}

namespace {

// waitpid after SIGKILL, bounded: a child stuck in the kernel (state D) does not die, and an
// unbounded wait would hang the test until ctest's limit with nothing said. Says what it saw.
void reap_killed(pid_t pid, int& status) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() >= give_up) {
      std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
      std::ifstream wchan("/proc/" + std::to_string(pid) + "/wchan");
      std::string line, where;
      std::getline(stat, line);
      std::getline(wchan, where);
      std::fprintf(stderr, "\n*** child %d still there 20 s after SIGKILL: stat %s, wchan %s ***\n\n",
                   static_cast<int>(pid), line.c_str(), where.c_str());
      return;
    }
    ::usleep(10000);
  }
}

}  // namespace

ChildProcess::~ChildProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    reap_killed(pid_, status);
  }
  if (hooks.finished != nullptr) hooks.finished(this, result_);
  for (const int fd : {in_fd_, out_fd_, err_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

bool ChildProcess::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (n <= 0) return true;
  char buf[4096];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || fds[i].revents == 0) continue;
    const ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
    if (got > 0) {
      (i == 0 ? result_.out : result_.err).append(buf, static_cast<size_t>(got));
    } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
      ::close(fds[i].fd);
      (i == 0 ? out_fd_ : err_fd_) = -1;
    }
  }
  return true;
}

bool ChildProcess::wait_for_output(const std::string& needle, std::chrono::milliseconds timeout, size_t from) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto seen = [&] { return result_.out.find(needle, from) != std::string::npos; };
  while (!seen()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!pump(std::min(left, std::chrono::milliseconds(50)))) return seen();
  }
  return true;
}

bool ChildProcess::send(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    if (in_fd_ < 0) return false;
    const ssize_t n = ::write(in_fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void ChildProcess::close_stdin() {
  if (in_fd_ >= 0) ::close(in_fd_);
  in_fd_ = -1;
}

void ChildProcess::send_signal(int signo) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, signo);
}

ChildResult ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      result_.exit_status = status_code(status);
      result_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      // SIGTERM first, so that a VMM can still say what it saw (kiln prints its exit summary), then
      // SIGKILL after 3 s.
      result_.timed_out = true;
      ::kill(pid_, SIGTERM);
      const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      while (::waitpid(pid_, &status, WNOHANG) != pid_) {
        if (std::chrono::steady_clock::now() >= grace) {
          ::kill(pid_, SIGKILL);
          reap_killed(pid_, status);
          break;
        }
        if (!pump(std::chrono::milliseconds(10))) ::usleep(5000);
      }
      reaped_ = true;
      result_.exit_status = status_code(status);
      break;
    }
    if (!pump(std::chrono::milliseconds(10))) ::usleep(5000);
  }
  // The child is gone: drain what it left in the pipes (bounded, in case a grandchild holds them).
  for (int i = 0; i < 100 && (out_fd_ >= 0 || err_fd_ >= 0); ++i) pump(std::chrono::milliseconds(10));
  return result_;
}

ChildResult run_child(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(argv));
  return child.wait(timeout);
}

}  // namespace kiln::test
