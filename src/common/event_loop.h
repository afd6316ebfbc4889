// A thread running an epoll loop over a fixed set of file descriptors (the model of Cloud
// Hypervisor's per-device threads): device I/O happens here, never on a vCPU thread. The set is
// given at start; stop() (and the destructor) wakes the loop and joins the thread, after which no
// callback runs any more.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/event_fd.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln {

class EventLoop {
 public:
  struct Source {
    int fd;
    std::function<void()> on_readable;  // runs on the loop thread
  };

  // Starts the thread. `name` shows in logs and as the thread name (15 chars max).
  [[nodiscard]] static Result<std::unique_ptr<EventLoop>> start(std::string name, std::vector<Source> sources);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop() { stop(); }

  void stop();

 private:
  EventLoop(std::string name, std::vector<Source> sources, UniqueFd epoll, EventFd stop)
      : name_(std::move(name)), sources_(std::move(sources)), epoll_(std::move(epoll)), stop_(std::move(stop)) {}
  void run();

  std::string name_;
  std::vector<Source> sources_;
  UniqueFd epoll_;
  EventFd stop_;
  std::thread thread_;
};

}  // namespace kiln
