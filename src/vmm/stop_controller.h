// The first stop request wins; the main thread waits on its eventfd and then kicks every vCPU.
#pragma once

#include <mutex>
#include <optional>

#include "common/result.h"
#include "common/unique_fd.h"
#include "vmm/stop_reason.h"

namespace kiln {

class StopController {
 public:
  StopController();

  // Records the reason (only the first one counts) and wakes the waiter. Thread-safe.
  void request(StopReason reason);
  [[nodiscard]] bool requested() const;
  [[nodiscard]] std::optional<StopReason> reason() const;
  // Readable when a stop was requested (for poll()).
  [[nodiscard]] int event_fd() const { return event_.get(); }

 private:
  mutable std::mutex mu_;
  std::optional<StopReason> reason_;
  UniqueFd event_;
};

}  // namespace kiln
