// One client connection to a unix stream socket (kiln's API socket, QEMU's QMP socket), with
// buffered reads that wait at most until a deadline, and a send that can carry a file
// descriptor (SCM_RIGHTS, for QMP's getfd).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln::bench {

using Clock = std::chrono::steady_clock;

class UnixStream {
 public:
  // Connects to `path`, retrying while the socket is not there yet or refuses (the VMM is still
  // starting), until `timeout` has passed.
  [[nodiscard]] static Result<UnixStream> connect(const std::string& path, std::chrono::milliseconds timeout);

  // Writes all of `data`; with `fd` >= 0 the first byte carries it (SCM_RIGHTS).
  [[nodiscard]] Status send(std::string_view data, int fd = -1);
  // The bytes up to and including the first `delim` (from the buffer, reading more as needed).
  [[nodiscard]] Result<std::string> read_until(std::string_view delim, Clock::time_point deadline);
  // Exactly `n` bytes.
  [[nodiscard]] Result<std::string> read_exact(size_t n, Clock::time_point deadline);

 private:
  explicit UnixStream(UniqueFd fd) : fd_(std::move(fd)) {}
  // Appends what the socket has to `buf_`; an error on EOF, a failed read or the deadline.
  [[nodiscard]] Status fill(Clock::time_point deadline);

  UniqueFd fd_;
  std::string buf_;
};

}  // namespace kiln::bench
