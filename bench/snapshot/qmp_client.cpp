#include "qmp_client.h"

namespace kiln::bench {
namespace {

bool is_reply(const std::string& line) { return line.rfind("{\"return\"", 0) == 0 || line.rfind("{\"error\"", 0) == 0; }

}  // namespace

std::optional<std::string> json_field(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\"");
  if (at == std::string::npos) return std::nullopt;
  at += key.size() + 2;
  while (at < json.size() && (json[at] == ' ' || json[at] == ':')) ++at;
  if (at >= json.size()) return std::nullopt;
  if (json[at] == '"') {
    const size_t end = json.find('"', at + 1);
    if (end == std::string::npos) return std::nullopt;
    return json.substr(at + 1, end - at - 1);
  }
  size_t end = at;
  while (end < json.size() && json[end] != ',' && json[end] != '}' && json[end] != ']' && json[end] != ' ') ++end;
  if (end == at) return std::nullopt;
  return json.substr(at, end - at);
}

Result<QmpClient> QmpClient::connect(const std::string& socket, std::chrono::milliseconds timeout) {
  auto stream = UnixStream::connect(socket, timeout);
  if (!stream) return tl::unexpected(stream.error());
  QmpClient qmp(std::move(*stream));
  auto greeting = qmp.read_line(Clock::now() + timeout);
  if (!greeting) return wrap("QMP greeting", greeting.error());
  if (greeting->find("\"QMP\"") == std::string::npos) return fail("QMP greeting expected, got: {}", *greeting);
  auto caps = qmp.execute(R"({"execute": "qmp_capabilities"})", timeout);
  if (!caps) return tl::unexpected(caps.error());
  return qmp;
}

Result<std::string> QmpClient::read_line(Clock::time_point deadline) {
  auto line = stream_.read_until("\n", deadline);
  if (!line) return tl::unexpected(line.error());
  while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
  return line;
}

Result<std::string> QmpClient::execute(const std::string& command, std::chrono::milliseconds timeout, int fd) {
  const auto deadline = Clock::now() + timeout;
  KILN_TRY(stream_.send(command + "\n", fd));
  for (;;) {
    auto line = read_line(deadline);
    if (!line) return wrap(command, line.error());
    if (!is_reply(*line)) {
      events_.push_back(std::move(*line));
      continue;
    }
    if (line->rfind("{\"error\"", 0) == 0) {
      return fail("{}: {}", command, json_field(*line, "desc").value_or(*line));
    }
    return line;
  }
}

Result<std::string> QmpClient::wait_event(const std::string& name, const std::function<bool(const std::string&)>& wanted,
                                          std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto matches = [&](const std::string& line) { return json_field(line, "event") == name && wanted(line); };
  while (!events_.empty()) {
    std::string line = std::move(events_.front());
    events_.pop_front();
    if (matches(line)) return line;
  }
  for (;;) {
    auto line = read_line(deadline);
    if (!line) return wrap("waiting for QMP event " + name, line.error());
    if (matches(*line)) return line;
  }
}

}  // namespace kiln::bench
