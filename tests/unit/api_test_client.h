// A tiny HTTP/1.1 client over a unix socket for the API tests: one kept-alive connection,
// Content-Length bodies, every wait bounded.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "common/unique_fd.h"

namespace kiln::api::test {

struct HttpReply {
  int status = 0;  // 0: no response (connection closed or timed out)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  [[nodiscard]] nlohmann::json json() const;
  [[nodiscard]] std::string fault() const;  // the fault_message, or "" when there is none
};

class ApiTestClient {
 public:
  explicit ApiTestClient(std::string socket_path) : socket_path_(std::move(socket_path)) {}

  HttpReply get(const std::string& path) { return request("GET", path, ""); }
  HttpReply put(const std::string& path, const std::string& body) { return request("PUT", path, body); }
  HttpReply patch(const std::string& path, const std::string& body) { return request("PATCH", path, body); }
  HttpReply request(const std::string& method, const std::string& path, const std::string& body);
  // Sends `bytes` as they are, then reads one response.
  HttpReply raw(const std::string& bytes);
  // Sends `bytes` and reads nothing.
  [[nodiscard]] bool send_only(const std::string& bytes);
  // Reads one more response (pipelined requests).
  HttpReply read_reply();
  [[nodiscard]] bool connect();
  // True when the server closed this connection (a read sees end of file).
  [[nodiscard]] bool closed_by_server();
  void disconnect() { fd_.reset(); buffer_.clear(); }

 private:
  [[nodiscard]] bool fill();  // reads more bytes into buffer_; false on EOF, error or timeout

  std::string socket_path_;
  UniqueFd fd_;
  std::string buffer_;
};

}  // namespace kiln::api::test
