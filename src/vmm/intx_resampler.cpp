#include "vmm/intx_resampler.h"

#include <poll.h>
#include <unistd.h>

#include "common/log.h"

namespace kiln {

Result<std::unique_ptr<IntxResampler>> IntxResampler::start(std::vector<Line> lines) {
  auto stop = KILN_TRY_VALUE(EventFd::create());
  std::unique_ptr<IntxResampler> r(new IntxResampler(std::move(lines), std::move(stop)));
  r->thread_ = std::thread([p = r.get()] { p->run(); });
  return r;
}

IntxResampler::~IntxResampler() {
  stop_.signal();
  if (thread_.joinable()) thread_.join();
}

void IntxResampler::run() {
  std::vector<pollfd> fds;
  fds.push_back({stop_.fd(), POLLIN, 0});
  for (const auto& l : lines_) fds.push_back({l.resample_fd, POLLIN, 0});
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      log("INTx resampler: poll failed ({}): level-triggered virtio interrupts may stall", errno);
      return;
    }
    if ((fds[0].revents & POLLIN) != 0) return;
    for (size_t i = 1; i < fds.size(); ++i) {
      if ((fds[i].revents & POLLIN) == 0) continue;
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t n = ::read(fds[i].fd, &count, sizeof(count));
      lines_[i - 1].on_eoi();
    }
  }
}

}  // namespace kiln
