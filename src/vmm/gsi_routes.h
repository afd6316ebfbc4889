// The VM's GSI routing table (kvm/api.txt 4.52, KVM_SET_GSI_ROUTING): KVM's default routes for
// GSIs 0-23 (IOAPIC pin = GSI, and the PIC for 0-15, exactly what KVM_CREATE_IRQCHIP installs)
// plus one MSI route per MSI-X vector, GSIs from 24 up. KVM_SET_GSI_ROUTING replaces the whole
// table, so every change sends all of it. Thread-safe.
#pragma once

#include <map>
#include <mutex>

#include "kvm/vm_fd.h"
#include "pci/msix.h"

namespace kiln {

class GsiRoutes {
 public:
  static constexpr uint32_t kFirstMsiGsi = 24;
  static constexpr uint32_t kMaxMsiGsis = 1024;  // far above what kiln's devices need

  explicit GsiRoutes(VmFd& vm) : vm_(vm) {}

  // `count` consecutive GSIs for MSI routes (none routed yet); the first of them.
  [[nodiscard]] Result<uint32_t> allocate(uint32_t count);
  // GSI `gsi` (allocated) now sends `message`.
  [[nodiscard]] Status set_msi(uint32_t gsi, const pci::MsiMessage& message);

 private:
  VmFd& vm_;
  std::mutex mu_;
  uint32_t next_ = kFirstMsiGsi;
  std::map<uint32_t, pci::MsiMessage> msi_;
};

}  // namespace kiln
