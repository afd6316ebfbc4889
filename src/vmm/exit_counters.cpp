#include "vmm/exit_counters.h"

#include <fmt/format.h>

#include <utility>

#include "kvm/uapi.h"

namespace kiln {

uint64_t ExitCounters::total() const {
  uint64_t sum = 0;
  for (const auto& slot : counts_) sum += slot.load(std::memory_order_relaxed);
  return sum;
}

std::string exit_reason_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN: return "unknown";
    case KVM_EXIT_EXCEPTION: return "exception";
    case KVM_EXIT_IO: return "io";
    case KVM_EXIT_HYPERCALL: return "hypercall";
    case KVM_EXIT_DEBUG: return "debug";
    case KVM_EXIT_HLT: return "hlt";
    case KVM_EXIT_MMIO: return "mmio";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq-window-open";
    case KVM_EXIT_SHUTDOWN: return "shutdown";
    case KVM_EXIT_FAIL_ENTRY: return "fail-entry";
    case KVM_EXIT_INTR: return "intr";
    case KVM_EXIT_SET_TPR: return "set-tpr";
    case KVM_EXIT_TPR_ACCESS: return "tpr-access";
    case KVM_EXIT_NMI: return "nmi";
    case KVM_EXIT_INTERNAL_ERROR: return "internal-error";
    case KVM_EXIT_SYSTEM_EVENT: return "system-event";
    case KVM_EXIT_IOAPIC_EOI: return "ioapic-eoi";
    case KVM_EXIT_HYPERV: return "hyperv";
    case KVM_EXIT_X86_RDMSR: return "rdmsr";
    case KVM_EXIT_X86_WRMSR: return "wrmsr";
    case KVM_EXIT_DIRTY_RING_FULL: return "dirty-ring-full";
    case KVM_EXIT_X86_BUS_LOCK: return "bus-lock";
    default: return fmt::format("reason {}", reason);
  }
}

std::string exit_summary(const std::vector<const ExitCounters*>& vcpus) {
  std::vector<std::pair<uint32_t, uint64_t>> reasons;
  uint64_t total = 0;
  std::string per_vcpu;
  for (uint32_t reason = 0; reason < ExitCounters::kSlots; ++reason) {
    uint64_t n = 0;
    for (const ExitCounters* c : vcpus) n += c->count(reason);
    if (n > 0) reasons.emplace_back(reason, n);
  }
  for (const ExitCounters* c : vcpus) {
    const uint64_t n = c->total();
    total += n;
    per_vcpu += fmt::format(" {}", n);
  }
  std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string by_reason;
  for (const auto& [reason, n] : reasons) {
    by_reason += fmt::format("{}{} {}", by_reason.empty() ? "" : ", ", exit_reason_name(reason), n);
  }
  return fmt::format("{} ({}); per vCPU{}", total, by_reason.empty() ? "none" : by_reason, per_vcpu);
}

}  // namespace kiln
