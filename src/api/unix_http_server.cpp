#include "api/unix_http_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

#include "common/log.h"

namespace kiln::api {

UnixHttpServer::~UnixHttpServer() { shutdown(); }

Status UnixHttpServer::start(const std::string& path, std::chrono::milliseconds io_timeout) {
  if (thread_.joinable()) return fail("the API server is already running");
  auto listener = KILN_TRY_VALUE(UnixListener::bind(path));
  auto stop = KILN_TRY_VALUE(EventFd::create());
  listener_ = std::make_unique<UnixListener>(std::move(listener));
  stop_ = std::make_unique<EventFd>(std::move(stop));
  io_timeout_ = io_timeout;
  thread_ = std::thread([this] { run(); });
  return {};
}

void UnixHttpServer::shutdown() {
  if (thread_.joinable()) {
    stop_->signal();
    thread_.join();
  }
  connections_.clear();
  listener_.reset();  // removes the socket file
}

void UnixHttpServer::run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({stop_->fd(), POLLIN, 0});
    fds.push_back({listener_->fd(), POLLIN, 0});
    for (const auto& c : connections_) fds.push_back({c.stream->fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      log("API server: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[0].revents != 0) return;
    // Serve before accepting: `connections_` indices match `fds` from 2 on.
    for (size_t i = fds.size(); i-- > 2;) {
      if (fds[i].revents == 0) continue;
      Connection& c = connections_[i - 2];
      c.last_request = std::chrono::steady_clock::now();
      if (!serve(*c.stream)) connections_.erase(connections_.begin() + static_cast<std::ptrdiff_t>(i - 2));
    }
    if (fds[1].revents != 0) accept_connections();
  }
}

void UnixHttpServer::accept_connections() {
  for (;;) {
    UniqueFd fd(::accept4(listener_->fd(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) log("API server: accept: {}", std::strerror(errno));
      return;
    }
    if (connections_.size() >= kMaxConnections) {
      // Every connection sits between requests here (one thread serves them all): the one idle
      // longest is closed to make room.
      const auto idle = std::min_element(connections_.begin(), connections_.end(), [](const auto& a, const auto& b) {
        return a.last_request < b.last_request;
      });
      connections_.erase(idle);
    }
    connections_.push_back({std::make_unique<FdStream>(std::move(fd), io_timeout_), std::chrono::steady_clock::now()});
  }
}

bool UnixHttpServer::serve(FdStream& stream) {
  do {
    bool connection_closed = false;
    close_current_ = false;
    // process_request reads one request, routes it and writes the response; false when the
    // peer closed the connection or a read or write failed.
    if (!process_request(stream, false, connection_closed, nullptr)) return false;
    if (connection_closed || close_current_) return false;
  } while (stream.has_buffered_data());
  return true;
}

}  // namespace kiln::api
