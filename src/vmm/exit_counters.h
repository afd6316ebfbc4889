// How often each vCPU left KVM_RUN for kiln, per exit reason (kvm/api.txt 5: exit_reason): a boot's
// round trips to user space. One per vCPU, written only by its thread with a relaxed load and store
// (no locked instruction: as cheap as a plain counter); any thread may read it.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

class ExitCounters {
 public:
  // Linux 6.1's reasons are below 40; larger ones share the last slot.
  static constexpr uint32_t kSlots = 64;

  // Only from the vCPU's own thread.
  void record(uint32_t reason) {
    auto& slot = counts_[std::min(reason, kSlots - 1)];
    slot.store(slot.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t count(uint32_t reason) const {
    return counts_[std::min(reason, kSlots - 1)].load(std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t total() const;

 private:
  std::array<std::atomic<uint64_t>, kSlots> counts_{};
};

// "io", "mmio", "hlt", ... for the KVM_EXIT_* an x86 host returns; "reason N" for the others.
[[nodiscard]] std::string exit_reason_name(uint32_t reason);

// Every vCPU's exits in one line: "1234 (io 1000, mmio 200, intr 34); per vCPU 1000 234", reasons
// most frequent first (ties by number).
[[nodiscard]] std::string exit_summary(const std::vector<const ExitCounters*>& vcpus);

}  // namespace kiln
