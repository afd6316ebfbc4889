// A raw HTTP/1.1 client for kiln's API socket: one request, one response (status line, headers,
// Content-Length body), on a keep-alive connection. No curl: its process start would be most of
// what a request costs.
#pragma once

#include <chrono>
#include <string>

#include "unix_stream.h"

namespace kiln::bench {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpConnection {
 public:
  [[nodiscard]] static Result<HttpConnection> connect(const std::string& socket, std::chrono::milliseconds timeout);

  // METHOD PATH with a JSON body when `body` is not empty; waits at most `timeout` for the reply.
  [[nodiscard]] Result<HttpReply> request(const std::string& method, const std::string& path,
                                          const std::string& body, std::chrono::milliseconds timeout);

 private:
  explicit HttpConnection(UnixStream stream) : stream_(std::move(stream)) {}
  UnixStream stream_;
};

// `request` on a new connection, closed afterwards.
[[nodiscard]] Result<HttpReply> http_once(const std::string& socket, const std::string& method,
                                          const std::string& path, const std::string& body,
                                          std::chrono::milliseconds timeout);

}  // namespace kiln::bench
