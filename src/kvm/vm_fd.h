// A KVM VM fd: memory slots, irqchip, PIT, vCPU creation (kvm/api.txt section 4).
#pragma once

#include "kvm/uapi.h"

#include <cstdint>
#include <span>

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
  // KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE (4.75): a signal of `event_fd` raises the level of
  // `gsi`; the guest's EOI lowers it and signals `resample_fd` (the VMM re-raises it if the device
  // still has an interrupt pending).
  [[nodiscard]] Status irqfd_resample(int event_fd, int resample_fd, uint32_t gsi);
  // KVM_SET_GSI_ROUTING (4.52): replaces the whole GSI routing table with `entries` (irqchip pins
  // and MSI messages); irqfds bound to a GSI follow its new route.
  [[nodiscard]] Status set_gsi_routing(std::span<const kvm_irq_routing_entry> entries);
  // KVM_SIGNAL_MSI (4.71): sends one MSI now. Returns whether the guest accepted it (false: blocked).
  [[nodiscard]] Result<bool> signal_msi(uint64_t address, uint32_t data);
  // KVM_IOEVENTFD (4.59): a `len`-byte guest write of `datamatch` to MMIO `addr` signals
  // `event_fd` inside KVM, without an exit to user space.
  [[nodiscard]] Status ioeventfd_mmio(int event_fd, GuestAddress addr, uint32_t len, uint64_t datamatch);
  // The same for a port I/O write to `port`; `assign` false removes one registered before.
  [[nodiscard]] Status ioeventfd_pio(int event_fd, uint16_t port, uint32_t len, uint64_t datamatch, bool assign = true);
  // KVM_ENABLE_CAP on the VM.
  [[nodiscard]] Status enable_cap(uint32_t cap, uint64_t arg0 = 0);
  // KVM_CHECK_EXTENSION on the VM fd (KVM_CAP_CHECK_EXTENSION_VM); 0 means unsupported.
  [[nodiscard]] int check_extension(long cap) const;
  [[nodiscard]] Result<VcpuFd> create_vcpu(uint32_t id);

  // In-kernel irqchip state (4.26/4.27): chip 0 PIC master, 1 PIC slave, 2 IOAPIC.
  static constexpr uint32_t kPicMaster = KVM_IRQCHIP_PIC_MASTER;
  static constexpr uint32_t kPicSlave = KVM_IRQCHIP_PIC_SLAVE;
  static constexpr uint32_t kIoapic = KVM_IRQCHIP_IOAPIC;
  [[nodiscard]] Result<kvm_irqchip> get_irqchip(uint32_t chip_id) const;
  // Sets the chip named by irqchip.chip_id.
  [[nodiscard]] Status set_irqchip(const kvm_irqchip& irqchip);
  // KVM_GET_PIT2 / KVM_SET_PIT2 (4.53/4.54).
  [[nodiscard]] Result<kvm_pit_state2> get_pit2() const;
  [[nodiscard]] Status set_pit2(const kvm_pit_state2& pit);
  // KVM_GET_CLOCK / KVM_SET_CLOCK (4.47/4.48): the kvmclock base every vCPU's clock derives from.
  [[nodiscard]] Result<kvm_clock_data> get_clock() const;
  [[nodiscard]] Status set_clock(const kvm_clock_data& clock);

  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  [[nodiscard]] Status ioctl_status(unsigned long request, const void* arg, const char* name) const;
  UniqueFd fd_;
  size_t vcpu_mmap_size_;
};

}  // namespace kiln
