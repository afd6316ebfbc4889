// An HTTP/1.1 server on a unix socket: httplib::Server's routing and request parsing, with kiln's
// own accept loop (cpp-httplib 0.11 only listens on TCP). One thread serves every connection in
// turn, so handlers never run concurrently (as in Firecracker, the API is one request at a time).
// Connections are kept alive until the client closes them, or until a new client needs the room
// (at kMaxConnections the one idle longest is closed: idle keep-alive connections cannot lock
// others out); a client that stalls in the middle of a request is dropped after the I/O timeout.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "api/fd_stream.h"
#include "api/unix_listener.h"
#include "common/event_fd.h"
#include "common/result.h"

namespace kiln::api {

class UnixHttpServer : public httplib::Server {
 public:
  static constexpr size_t kMaxConnections = 16;

  UnixHttpServer() = default;
  UnixHttpServer(const UnixHttpServer&) = delete;
  UnixHttpServer& operator=(const UnixHttpServer&) = delete;
  ~UnixHttpServer() override;

  // Register routes (Get/Put/Patch) first, then start: binds `path` and starts the thread.
  [[nodiscard]] Status start(const std::string& path, std::chrono::milliseconds io_timeout);
  // Wakes the thread, joins it, closes every connection and removes the socket file. Idempotent.
  void shutdown();

  // For handlers and the error handler: drop this connection after the current response (used
  // when the request body was not read, so the stream position is unknown).
  void close_after_response() { close_current_ = true; }

 private:
  void run();
  void accept_connections();
  // Serves every complete request the connection has sent; false when it must be closed.
  bool serve(FdStream& stream);

  struct Connection {
    std::unique_ptr<FdStream> stream;
    std::chrono::steady_clock::time_point last_request;  // accepted, or the last request served
  };

  std::unique_ptr<UnixListener> listener_;
  std::unique_ptr<EventFd> stop_;
  std::vector<Connection> connections_;
  std::chrono::milliseconds io_timeout_{5000};
  bool close_current_ = false;
  std::thread thread_;
};

}  // namespace kiln::api
