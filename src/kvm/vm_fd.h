// A KVM VM fd: memory slots, irqchip, PIT, vCPU creation (kvm/api.txt section 4).
#pragma once

#include "kvm/uapi.h"

#include <cstdint>

#include "common/result.h"
#include "common/unique_fd.h"
#include "kvm/vcpu_fd.h"
#include "memory/guest_address.h"

namespace kiln {

class VmFd {
 public:
  VmFd(UniqueFd fd, size_t vcpu_mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}

  [[nodiscard]] Status set_user_memory_region(uint32_t slot, GuestAddress guest, uint64_t size, void* host);
  [[nodiscard]] Status set_tss_addr(GuestAddress addr);
  [[nodiscard]] Status set_identity_map_addr(GuestAddress addr);
  [[nodiscard]] Status create_irqchip();
  [[nodiscard]] Status create_pit2(uint32_t flags);
  // KVM_IRQ_LINE: level of a GSI on the in-kernel PIC/IOAPIC.
  [[nodiscard]] Status irq_line(uint32_t gsi, bool high) const;
  // KVM_IRQFD (4.75): each signal of `event_fd` is an edge on `gsi`.
  [[nodiscard]] Status irqfd(int event_fd, uint32_t gsi);
  // KVM_IOEVENTFD (4.59): a `len`-byte guest write of `datamatch` to MMIO `addr` signals
  // `event_fd` inside KVM, without an exit to user space.
  [[nodiscard]] Status ioeventfd_mmio(int event_fd, GuestAddress addr, uint32_t len, uint64_t datamatch);
  // KVM_ENABLE_CAP on the VM.
  [[nodiscard]] Status enable_cap(uint32_t cap, uint64_t arg0 = 0);
  [[nodiscard]] Result<VcpuFd> create_vcpu(uint32_t id);

  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  [[nodiscard]] Status ioctl_status(unsigned long request, const void* arg, const char* name) const;
  UniqueFd fd_;
  size_t vcpu_mmap_size_;
};

}  // namespace kiln
