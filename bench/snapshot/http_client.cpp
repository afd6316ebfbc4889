#include "http_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace kiln::bench {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The value of header `name` (lower case) in `head`, or "".
std::string header(const std::string& head, const std::string& name) {
  const std::string l = lower(head);
  const size_t at = l.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  size_t begin = at + 3 + name.size();
  while (begin < head.size() && head[begin] == ' ') ++begin;
  const size_t end = head.find("\r\n", begin);
  return head.substr(begin, end - begin);
}

}  // namespace

Result<HttpConnection> HttpConnection::connect(const std::string& socket, std::chrono::milliseconds timeout) {
  auto stream = UnixStream::connect(socket, timeout);
  if (!stream) return tl::unexpected(stream.error());
  return HttpConnection(std::move(*stream));
}

Result<HttpReply> HttpConnection::request(const std::string& method, const std::string& path,
                                          const std::string& body, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n";
  if (!body.empty()) {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  KILN_TRY(stream_.send(req));
  auto head = stream_.read_until("\r\n\r\n", deadline);
  if (!head) return wrap(method + " " + path, head.error());
  HttpReply reply;
  if (head->rfind("HTTP/1.", 0) != 0 || head->size() < 12) return fail("{} {}: not an HTTP reply: {}", method, path, *head);
  reply.status = std::atoi(head->c_str() + 9);
  const std::string length = header(*head, "content-length");
  const size_t n = length.empty() ? 0 : std::strtoull(length.c_str(), nullptr, 10);
  if (n > 0) {
    auto got = stream_.read_exact(n, deadline);
    if (!got) return wrap(method + " " + path + ": body", got.error());
    reply.body = std::move(*got);
  }
  return reply;
}

Result<HttpReply> http_once(const std::string& socket, const std::string& method, const std::string& path,
                            const std::string& body, std::chrono::milliseconds timeout) {
  auto conn = HttpConnection::connect(socket, timeout);
  if (!conn) return tl::unexpected(conn.error());
  return conn->request(method, path, body, timeout);
}

}  // namespace kiln::bench
