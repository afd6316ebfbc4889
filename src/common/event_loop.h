// A thread running an epoll loop over a fixed set of file descriptors (the model of Cloud
// Hypervisor's per-device threads): device I/O happens here, never on a vCPU thread. The set is
// given at start; stop() (and the destructor) wakes the loop and joins the thread, after which no
// callback runs any more. pause() parks the thread between callbacks (for a snapshot): the fds
// that become readable meanwhile stay readable (epoll is level-triggered) and are served after
// resume().
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
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

  // Starts the thread. `name` shows in logs and as the thread name (15 chars max). With `paused`
  // the thread parks before its first callback and serves nothing until resume().
  [[nodiscard]] static Result<std::unique_ptr<EventLoop>> start(std::string name, std::vector<Source> sources,
                                                                bool paused = false);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop() { stop(); }

  // Returns once the thread is parked: the callback running now (if any) has returned and no
  // other one starts until resume(). Not from the loop's own thread (it would wait for itself).
  void pause();
  // Lets a parked thread continue; nothing when it is not paused.
  void resume();
  // Wakes the thread (parked or not) and joins it.
  void stop();

 private:
  EventLoop(std::string name, std::vector<Source> sources, UniqueFd epoll, EventFd control)
      : name_(std::move(name)), sources_(std::move(sources)), epoll_(std::move(epoll)), control_(std::move(control)) {}
  void run();
  // Parks while a pause is requested; false when the thread must stop.
  [[nodiscard]] bool honour_requests();

  std::string name_;
  std::vector<Source> sources_;
  UniqueFd epoll_;
  EventFd control_;  // wakes epoll_wait for a pause or stop request
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> pausing_{false};   // written under mu_; read without it between callbacks
  std::atomic<bool> stopping_{false};  // likewise
  bool parked_ = false;                // the thread waits in honour_requests()
  bool exited_ = false;                // run() returned (stop, or an epoll error)
};

}  // namespace kiln
