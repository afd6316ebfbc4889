#include "api/fd_stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace kiln::api {

bool FdStream::wait_for(short events) const {
  pollfd p{fd_.get(), events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (n < 0 && errno == EINTR) continue;
    // POLLHUP/POLLERR count as ready: the following read or write reports the end.
    return n > 0;
  }
}

bool FdStream::is_readable() const { return has_buffered_data() || wait_for(POLLIN); }

bool FdStream::is_writable() const { return wait_for(POLLOUT); }

ssize_t FdStream::read(char* ptr, size_t size) {
  if (!has_buffered_data()) {
    begin_ = end_ = 0;
    for (;;) {
      const ssize_t n = ::recv(fd_.get(), buffer_.data(), buffer_.size(), 0);
      if (n >= 0) {
        end_ = static_cast<size_t>(n);
        break;
      }
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(POLLIN)) return -1;
    }
    if (end_ == 0) return 0;  // the peer closed its side
  }
  const size_t n = std::min(size, end_ - begin_);
  std::memcpy(ptr, buffer_.data() + begin_, n);
  begin_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t FdStream::write(const char* ptr, size_t size) {
  for (;;) {
    // MSG_NOSIGNAL: a client that went away is an error here, not a SIGPIPE for kiln.
    const ssize_t n = ::send(fd_.get(), ptr, size, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if ((errno != EAGAIN && errno != EWOULDBLOCK) || !wait_for(POLLOUT)) return -1;
  }
}

void FdStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = "unix";
  port = 0;
}

void FdStream::get_local_ip_and_port(std::string& ip, int& port) const {
  ip = "unix";
  port = 0;
}

}  // namespace kiln::api
