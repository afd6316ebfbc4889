// Calls kiln's control API over its unix socket with curl, as Firecracker users do
// (Debian's /usr/bin/curl: `curl --unix-socket PATH -X PUT http://localhost/actions -d '{...}'`).
#pragma once

#include <chrono>
#include <string>

namespace kiln::test {

struct ApiReply {
  int status = 0;      // HTTP status; 0 when curl could not talk to the socket
  std::string body;
  std::string error;   // curl's stderr when status is 0
};

ApiReply api_call(const std::string& socket, const std::string& method, const std::string& path,
                  const std::string& body = "",
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));

// Polls until the socket accepts GET / (kiln started its API) or the time-out passes.
bool wait_for_api(const std::string& socket, std::chrono::milliseconds timeout);

}  // namespace kiln::test
