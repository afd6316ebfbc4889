#include "common/event_loop.h"

#include <pthread.h>
#include <sys/epoll.h>

#include "common/log.h"

namespace kiln {

Result<std::unique_ptr<EventLoop>> EventLoop::start(std::string name, std::vector<Source> sources, bool paused) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return fail_errno("epoll_create1");
  auto control = KILN_TRY_VALUE(EventFd::create());
  // Index sources.size() is the control event.
  for (size_t i = 0; i <= sources.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    const int fd = i < sources.size() ? sources[i].fd : control.fd();
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return fail_errno(fmt::format("{}: epoll_ctl", name));
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(name), std::move(sources), std::move(epoll), std::move(control)));
  loop->pausing_ = paused;  // before the thread exists: it parks before any callback
  loop->thread_ = std::thread([raw = loop.get()] { raw->run(); });
  return loop;
}

void EventLoop::pause() {
  if (!thread_.joinable()) return;
  std::unique_lock lock(mu_);
  pausing_ = true;
  control_.signal();
  cv_.wait(lock, [this] { return parked_ || exited_; });
}

void EventLoop::resume() {
  std::lock_guard lock(mu_);
  pausing_ = false;
  cv_.notify_all();
}

void EventLoop::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  control_.signal();
  thread_.join();
}

bool EventLoop::honour_requests() {
  if (!pausing_.load(std::memory_order_acquire) && !stopping_.load(std::memory_order_acquire)) return true;
  std::unique_lock lock(mu_);
  if (pausing_ && !stopping_) {
    parked_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !pausing_ || stopping_; });
    parked_ = false;
  }
  return !stopping_;
}

void EventLoop::run() {
  ::pthread_setname_np(::pthread_self(), name_.substr(0, 15).c_str());
  epoll_event events[16];
  const auto exit = [this] {
    std::lock_guard lock(mu_);
    exited_ = true;
    cv_.notify_all();
  };
  for (;;) {
    if (!honour_requests()) return exit();
    const int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log("{}: epoll_wait: {}", name_, std::strerror(errno));
      return exit();
    }
    for (int i = 0; i < n; ++i) {
      // A request between two callbacks: the rest of this batch is dropped and polled for again
      // after a pause (level-triggered, so nothing readable is lost).
      if (pausing_.load(std::memory_order_acquire) || stopping_.load(std::memory_order_acquire)) break;
      const uint64_t index = events[i].data.u64;
      if (index == sources_.size()) {
        control_.consume();  // the request itself is in the flags
        continue;
      }
      sources_[index].on_readable();
    }
  }
}

}  // namespace kiln
