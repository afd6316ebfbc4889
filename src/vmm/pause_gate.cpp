#include "vmm/pause_gate.h"

namespace kiln {

void PauseGate::request_pause() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

void PauseGate::resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  cv_.notify_all();
}

void PauseGate::wake_all() {
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
}

bool PauseGate::pause_requested() const {
  std::lock_guard lock(mu_);
  return paused_;
}

}  // namespace kiln
