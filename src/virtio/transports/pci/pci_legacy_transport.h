// The legacy virtio-PCI transport (virtio 0.9.5, 2.1 and 2.2.2): one PCI function per device with
// the virtio header in I/O BAR 0, INTx pin A and, given an MsiSink, MSI-X with one vector per queue
// plus one for configuration changes (table and PBA in memory BAR 1). The function's IDs follow the
// transitional device IDs (blk 0x1001, console 0x1003, rng 0x1005; subsystem ID = virtio ID).
// Queue size is the device's (read-only), pages and ring alignment are 4096 (2.3).
//
// INTx is level-triggered: the VMM wires `irq` to an irqfd with resampling and calls
// reassert_if_pending() when the guest's EOI lowered the line; reading the ISR clears it. The line
// is not raised while the Command register's INTx Disable bit is set or MSI-X is enabled; Status
// bit 3 (Interrupt Status) shows whether the ISR holds an interrupt for INTx.
// With MSI-X enabled the vector registers appear at 20 and 22 and the device configuration moves
// to 24; an interrupt goes to the vector the driver assigned (none: VIRTIO_MSI_NO_VECTOR).
// LegacyTransport holds the registers, activation and snapshot state.
#pragma once

#include <atomic>
#include <memory>

#include "pci/msix.h"
#include "pci/pci_bus.h"
#include "virtio/transports/legacy/legacy_transport.h"

namespace kiln::virtio {

class PciLegacyTransport final : public pci::PciDevice, public LegacyTransport {
 public:
  // Fails for a device without a legacy PCI device ID (kiln's own configuration). Without `msi`
  // the function has no MSI-X capability (INTx only).
  [[nodiscard]] static Result<std::shared_ptr<PciLegacyTransport>> create(const GuestMemory& mem,
                                                                          std::shared_ptr<VirtioDevice> device,
                                                                          std::shared_ptr<IrqTrigger> irq,
                                                                          std::shared_ptr<pci::MsiSink> msi = nullptr);

  // PciDevice.
  pci::ConfigSpace& config() override { return config_; }
  void bar_read(int bar, uint64_t offset, std::span<uint8_t> data) override;
  void bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) override;
  void config_read(uint32_t offset, std::span<uint8_t> data) override;
  void config_write(uint32_t offset, std::span<const uint8_t> data) override;
  void config_restored() override;

  // Interrupt: through the queue's (or the configuration) vector while MSI-X is enabled.
  void used_buffer(uint16_t queue) override;
  void config_changed() override;

  // The MSI-X capability's offset in configuration space (0: none) and its table (tests, probes).
  [[nodiscard]] uint32_t msix_capability() const { return msix_cap_; }
  [[nodiscard]] pci::MsixTable* msix() const { return msix_.get(); }
  [[nodiscard]] uint16_t msix_vectors() const { return msix_ ? msix_->size() : 0; }

 protected:
  [[nodiscard]] bool line_enabled() const override;
  void reset_transport_locked() override;
  void save_transport_locked(snapshot::Encoder& out) override;
  [[nodiscard]] Status restore_transport_locked(snapshot::Decoder& in) override;

 private:
  PciLegacyTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device, std::shared_ptr<IrqTrigger> irq,
                     std::vector<EventFd> notify, const pci::Identity& id);
  // The MSI-X capability, table and PBA (BAR 1): one vector per queue and one for the configuration.
  [[nodiscard]] Status add_msix(std::shared_ptr<pci::MsiSink> msi);
  [[nodiscard]] bool msix_enabled() const { return msix_ && msix_->enabled(); }
  [[nodiscard]] uint64_t config_offset() const;  // 20, or 24 with MSI-X enabled
  [[nodiscard]] size_t field_width(uint64_t offset) const;
  [[nodiscard]] uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);
  // A vector the driver asks for: itself when the table has it, else VIRTIO_MSI_NO_VECTOR.
  [[nodiscard]] uint16_t accept_vector(uint32_t value) const;
  // INTx Disable and MSI-X control from configuration space into the mirrors device threads read.
  void sync_config();

  pci::ConfigSpace config_;
  std::unique_ptr<pci::MsixTable> msix_;
  uint32_t msix_cap_ = 0;
  std::atomic<bool> intx_disabled_{false};
  std::atomic<uint16_t> config_vector_;
  std::unique_ptr<std::atomic<uint16_t>[]> queue_vectors_;
};

// The PCI identity of a virtio device with ID `device_id`, or an error naming it.
[[nodiscard]] Result<pci::Identity> legacy_pci_identity(uint32_t device_id);

}  // namespace kiln::virtio
