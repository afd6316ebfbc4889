// An owned eventfd(2): a counter one side signals and another waits on (poll/epoll) or hands to
// KVM as an ioeventfd or irqfd.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln {

class EventFd {
 public:
  [[nodiscard]] static Result<EventFd> create() {
    UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd) return fail_errno("eventfd");
    return EventFd(std::move(fd));
  }
  // Adds 1; never blocks (the counter saturating is not a concern at these rates).
  void signal() const {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd_.get(), &one, sizeof(one));
  }
  // Reads and clears the counter; false when it was zero.
  bool consume() const {
    uint64_t value = 0;
    return ::read(fd_.get(), &value, sizeof(value)) == sizeof(value);
  }
  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace kiln
