#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "common/unique_fd.h"

namespace kiln {
namespace {

struct LogSink {
  std::mutex mu;
  UniqueFd file;  // invalid: stderr
  std::atomic<LogLevel> threshold{LogLevel::kInfo};
  std::atomic<bool> show_level{false};
};

LogSink& sink() {
  static LogSink s;
  return s;
}

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "Error";
    case LogLevel::kWarning:
      return "Warning";
    case LogLevel::kInfo:
      return "Info";
    case LogLevel::kDebug:
      return "Debug";
    case LogLevel::kTrace:
      return "Trace";
    case LogLevel::kOff:
      break;
  }
  return "Off";
}

}  // namespace

Status log_to_file(const std::string& path) {
  // O_RDWR: opening a FIFO this way never waits for a reader (fifo(7)).
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600));
  if (!fd) return fail_io(fmt::format("log file {}", path));
  std::lock_guard lock(sink().mu);
  sink().file = std::move(fd);
  return {};
}

void log_to_stderr() {
  std::lock_guard lock(sink().mu);
  sink().file.reset();
}

void set_log_level(LogLevel threshold) { sink().threshold = threshold; }

void set_log_show_level(bool show) { sink().show_level = show; }

void log_line_at(LogLevel level, std::string_view text) {
  LogSink& s = sink();
  const LogLevel threshold = s.threshold;
  if (level == LogLevel::kOff || threshold == LogLevel::kOff || level > threshold) return;
  // One write per line so lines from several threads do not interleave.
  std::string line = "kiln: ";
  if (s.show_level) line += fmt::format("[{}] ", level_name(level));
  line.append(text);
  line.push_back('\n');
  std::lock_guard lock(s.mu);
  const int fd = s.file ? s.file.get() : STDERR_FILENO;
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace kiln
