#include "common/event_loop.h"

#include <pthread.h>
#include <sys/epoll.h>

#include "common/log.h"

namespace kiln {

Result<std::unique_ptr<EventLoop>> EventLoop::start(std::string name, std::vector<Source> sources) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return fail_errno("epoll_create1");
  auto stop = EventFd::create();
  if (!stop) return tl::unexpected(stop.error());
  // Index sources.size() is the stop event.
  for (size_t i = 0; i <= sources.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    const int fd = i < sources.size() ? sources[i].fd : stop->fd();
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return fail_errno(fmt::format("{}: epoll_ctl", name));
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(name), std::move(sources), std::move(epoll), std::move(*stop)));
  loop->thread_ = std::thread([raw = loop.get()] { raw->run(); });
  return loop;
}

void EventLoop::stop() {
  if (!thread_.joinable()) return;
  stop_.signal();
  thread_.join();
}

void EventLoop::run() {
  ::pthread_setname_np(::pthread_self(), name_.substr(0, 15).c_str());
  epoll_event events[16];
  for (;;) {
    const int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log("{}: epoll_wait: {}", name_, std::strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t index = events[i].data.u64;
      if (index == sources_.size()) return;  // stop requested
      sources_[index].on_readable();
    }
  }
}

}  // namespace kiln
