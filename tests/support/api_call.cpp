#include "api_call.h"

#include <thread>

#include "child_process.h"

namespace kiln::test {

ApiReply api_call(const std::string& socket, const std::string& method, const std::string& path,
                  const std::string& body, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{"/usr/bin/curl", "-sS", "--unix-socket", socket, "-X", method, "-w", "\n%{http_code}"};
  if (!body.empty()) {
    argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", body});
  }
  argv.push_back("http://localhost" + path);
  const ChildResult r = run_child(argv, timeout);
  ApiReply reply;
  const size_t nl = r.out.rfind('\n');
  if (r.exit_status != 0 || nl == std::string::npos) {
    reply.error = r.err.empty() ? "curl exit " + std::to_string(r.exit_status) : r.err;
    return reply;
  }
  reply.status = std::atoi(r.out.c_str() + nl + 1);
  reply.body = r.out.substr(0, nl);
  return reply;
}

bool wait_for_api(const std::string& socket, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (api_call(socket, "GET", "/", "", std::chrono::seconds(10)).status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace kiln::test
