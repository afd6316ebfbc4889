// The legacy virtio-PCI transport (virtio 0.9.5, 2.1 and 2.2.2): one PCI function per device with
// the virtio header in I/O BAR 0 and INTx pin A. The function's IDs follow the transitional
// device IDs (blk 0x1001, console 0x1003, rng 0x1005; subsystem ID = virtio device ID).
// Queue size is the device's (read-only), pages and ring alignment are 4096 (2.3). The interrupt
// is level-triggered: the VMM wires `irq` to an irqfd with resampling and calls
// reassert_if_pending() when the guest's EOI lowered the line; reading the ISR clears it.
// LegacyTransport holds the registers, activation and snapshot state.
#pragma once

#include <memory>

#include "pci/pci_bus.h"
#include "virtio/transports/legacy/legacy_transport.h"

namespace kiln::virtio {

class PciLegacyTransport final : public pci::PciDevice, public LegacyTransport {
 public:
  // Fails for a device without a legacy PCI device ID (kiln's own configuration).
  [[nodiscard]] static Result<std::shared_ptr<PciLegacyTransport>> create(const GuestMemory& mem,
                                                                          std::shared_ptr<VirtioDevice> device,
                                                                          std::shared_ptr<IrqTrigger> irq);

  // PciDevice.
  pci::ConfigSpace& config() override { return config_; }
  void bar_read(int bar, uint64_t offset, std::span<uint8_t> data) override;
  void bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) override;

 private:
  PciLegacyTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device, std::shared_ptr<IrqTrigger> irq,
                     std::vector<EventFd> notify, const pci::Identity& id);
  [[nodiscard]] uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);

  pci::ConfigSpace config_;
};

// The PCI identity of a virtio device with ID `device_id`, or an error naming it.
[[nodiscard]] Result<pci::Identity> legacy_pci_identity(uint32_t device_id);

}  // namespace kiln::virtio
