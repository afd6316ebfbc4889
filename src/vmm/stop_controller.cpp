#include "vmm/stop_controller.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>

#include "common/log.h"

namespace kiln {

StopController::StopController() : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!event_) {
    log("eventfd for the stop controller failed");
    std::abort();  // cannot run a VM we could not stop
  }
}

void StopController::request(StopReason reason) {
  {
    std::lock_guard lock(mu_);
    if (reason_) return;
    reason_ = std::move(reason);
  }
  const uint64_t one = 1;
  (void)!::write(event_.get(), &one, sizeof(one));
}

bool StopController::requested() const {
  std::lock_guard lock(mu_);
  return reason_.has_value();
}

std::optional<StopReason> StopController::reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

}  // namespace kiln
