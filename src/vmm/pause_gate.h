// Where vCPU threads park while the VM is paused. The controller asks for a pause and waits
// until every running vCPU has parked; resume releases them. A vCPU parks only after KVM_RUN
// returned for a kick, so KVM has completed any pending I/O or MMIO exit first and the vCPU's
// state is consistent for saving (kvm/api.txt 5, kvm_run: "KVM_EXIT_IO ... complete only after
// userspace has re-entered the kernel with KVM_RUN").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace kiln {

class PauseGate {
 public:
  // Controller side.
  void request_pause();
  // Waits until `vcpus` threads are parked or `cancelled()` is true; returns whether all parked.
  template <typename Cancelled>
  bool wait_parked(uint32_t vcpus, Cancelled cancelled) {
    std::unique_lock lock(mu_);
    while (parked_ < vcpus && !cancelled()) cv_.wait_for(lock, std::chrono::milliseconds(5));
    return parked_ >= vcpus;
  }
  void resume();
  // Wakes parked threads so they can see a stop request.
  void wake_all();

  // vCPU side.
  [[nodiscard]] bool pause_requested() const;
  // Blocks while paused and `stopping()` is false.
  template <typename Stopping>
  void park(Stopping stopping) {
    std::unique_lock lock(mu_);
    ++parked_;
    cv_.notify_all();
    while (paused_ && !stopping()) cv_.wait(lock);
    --parked_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool paused_ = false;
  uint32_t parked_ = 0;
};

}  // namespace kiln
