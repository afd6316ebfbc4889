#include "api_test_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

namespace kiln::api::test {
namespace {
constexpr int kTimeoutMs = 5000;
}  // namespace

nlohmann::json HttpReply::json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string HttpReply::fault() const {
  const auto j = json();
  if (!j.is_object() || !j.contains("fault_message") || !j["fault_message"].is_string()) return "";
  return j["fault_message"].get<std::string>();
}

bool ApiTestClient::connect() {
  disconnect();
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof(addr.sun_path) - 1);
  if (!fd_ || ::connect(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    fd_.reset();
    return false;
  }
  return true;
}

bool ApiTestClient::fill() {
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, kTimeoutMs) <= 0) return false;
  char chunk[4096];
  const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

bool ApiTestClient::closed_by_server() {
  if (!fd_) return true;
  for (;;) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, kTimeoutMs) <= 0) return false;  // still open, nothing to read
    char chunk[4096];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (n <= 0) return true;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

HttpReply ApiTestClient::request(const std::string& method, const std::string& path, const std::string& body) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n";
  if (method != "GET") req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  return raw(req);
}

bool ApiTestClient::send_only(const std::string& bytes) {
  if (!fd_ && !connect()) return false;
  return ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

HttpReply ApiTestClient::raw(const std::string& bytes) {
  if (!send_only(bytes)) return {};
  return read_reply();
}

HttpReply ApiTestClient::read_reply() {
  HttpReply reply;
  size_t head_end = 0;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return reply;
  }
  const std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return reply;
  reply.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    const size_t value = line.find_first_not_of(' ', colon + 1);
    reply.headers[name] = value == std::string::npos ? "" : line.substr(value);
  }
  const size_t length = reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
  while (buffer_.size() < length) {
    if (!fill()) return {};
  }
  reply.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return reply;
}

}  // namespace kiln::api::test
