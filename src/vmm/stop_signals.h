// SIGINT, SIGTERM and SIGHUP as readable events: blocked in the calling thread (and so in every
// thread it starts afterwards) and read through a signalfd. Create it in the main thread before
// any other thread starts; the destructor restores the previous mask.
#pragma once

#include <signal.h>

#include <optional>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln {

class StopSignals {
 public:
  [[nodiscard]] static Result<StopSignals> block();
  StopSignals(StopSignals&& other) noexcept;
  StopSignals& operator=(StopSignals&&) = delete;
  StopSignals(const StopSignals&) = delete;
  ~StopSignals();

  // Readable (poll) when a stop signal is pending.
  [[nodiscard]] int fd() const { return fd_.get(); }
  // The pending signal's number, if any (non-blocking).
  [[nodiscard]] std::optional<int> take() const;

 private:
  StopSignals(UniqueFd fd, sigset_t old) : fd_(std::move(fd)), old_mask_(old) {}
  UniqueFd fd_;
  sigset_t old_mask_{};
  bool restore_ = true;
};

}  // namespace kiln
