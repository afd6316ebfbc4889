// The guest profiler's samples of one vCPU: written by that vCPU's thread only, read once the
// thread has been joined (no lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>

namespace kiln {

class VcpuProfile {
 public:
  enum class Mode { kKernel, kUser };

  void add(uint64_t rip, Mode mode, std::chrono::nanoseconds cost) {
    ++(mode == Mode::kUser ? user_ : kernel_)[rip];
    note(cost);
  }
  // A vCPU still waiting for INIT/SIPI (an application processor Linux has not started yet).
  void add_not_started(std::chrono::nanoseconds cost) {
    ++not_started_;
    note(cost);
  }
  // KVM_GET_REGS or KVM_GET_SREGS failed.
  void add_failed() { ++failed_; }

  [[nodiscard]] const std::unordered_map<uint64_t, uint64_t>& kernel() const { return kernel_; }
  [[nodiscard]] const std::unordered_map<uint64_t, uint64_t>& user() const { return user_; }
  [[nodiscard]] uint64_t not_started() const { return not_started_; }
  [[nodiscard]] uint64_t failed() const { return failed_; }
  [[nodiscard]] uint64_t samples() const { return samples_; }
  // Time the vCPU thread spent reading state for samples (not the VM exit and entry around it).
  [[nodiscard]] std::chrono::nanoseconds cost() const { return cost_; }

 private:
  void note(std::chrono::nanoseconds cost) {
    ++samples_;
    cost_ += cost;
  }

  std::unordered_map<uint64_t, uint64_t> kernel_;  // RIP -> samples
  std::unordered_map<uint64_t, uint64_t> user_;
  uint64_t not_started_ = 0;
  uint64_t failed_ = 0;
  uint64_t samples_ = 0;
  std::chrono::nanoseconds cost_{0};
};

}  // namespace kiln
