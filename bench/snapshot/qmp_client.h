// A tiny QMP client over QEMU's -qmp unix socket: the greeting, qmp_capabilities, commands and
// their replies (one JSON object per line), events kept aside until asked for. The JSON is not
// parsed: json_field() picks one scalar out of a line, which is all this benchmark needs.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "unix_stream.h"

namespace kiln::bench {

class QmpClient {
 public:
  // Connects (retrying until `timeout` while QEMU starts), reads the greeting, sends
  // qmp_capabilities.
  [[nodiscard]] static Result<QmpClient> connect(const std::string& socket, std::chrono::milliseconds timeout);

  // Sends `command` (a JSON object, e.g. {"execute": "stop"}), with `fd` attached when >= 0, and
  // returns the reply line; an error reply becomes an Error with QEMU's description.
  [[nodiscard]] Result<std::string> execute(const std::string& command, std::chrono::milliseconds timeout,
                                            int fd = -1);
  // The first event named `name` for whose line `wanted` is true (events read earlier included;
  // the ones before it are dropped).
  [[nodiscard]] Result<std::string> wait_event(const std::string& name,
                                               const std::function<bool(const std::string&)>& wanted,
                                               std::chrono::milliseconds timeout);

 private:
  explicit QmpClient(UnixStream stream) : stream_(std::move(stream)) {}
  [[nodiscard]] Result<std::string> read_line(Clock::time_point deadline);

  UnixStream stream_;
  std::deque<std::string> events_;
};

// The scalar after "key": in `json` (the first one: keys must be unambiguous in the line), a
// string without its quotes or a number/true/false as written; nullopt when absent.
[[nodiscard]] std::optional<std::string> json_field(const std::string& json, const std::string& key);

}  // namespace kiln::bench
