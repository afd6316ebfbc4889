#include "virtio/transports/pci/pci_legacy_transport.h"

#include <cstring>

#include "virtio/spec.h"
#include "virtio/transports/pci/pci_legacy_regs.h"

namespace kiln::virtio {
namespace {

// Transitional PCI device IDs (virtio 1.0, 4.1.2.1, as QEMU and Linux use them) and class codes.
struct Kind {
  uint32_t virtio_id;
  uint16_t pci_device_id;
  uint32_t class_code;
};
constexpr Kind kKinds[] = {
    {kIdNet, 0x1000, 0x020000},      // network controller, Ethernet
    {kIdBlock, 0x1001, 0x010000},    // mass storage, SCSI (what QEMU reports)
    {kIdBalloon, 0x1002, 0x00ff00},  // unclassified
    {kIdConsole, 0x1003, 0x078000},  // simple communication, other
    {kIdRng, 0x1005, 0x00ff00},      // unclassified
    // No transitional ID was ever assigned to vsock; Linux takes any of 0x1000-0x103f as legacy
    // and reads the device type from the subsystem ID (19), so kiln uses a free one.
    {kIdVsock, 0x1012, 0x078000},    // simple communication, other
};

}  // namespace

Result<pci::Identity> legacy_pci_identity(uint32_t device_id) {
  for (const Kind& k : kKinds) {
    if (k.virtio_id == device_id) {
      return pci::Identity{pci_legacy::kVendorId, k.pci_device_id, pci_legacy::kRevisionId, k.class_code,
                           pci_legacy::kVendorId, static_cast<uint16_t>(device_id), pci::kPinA};
    }
  }
  return fail("virtio device ID {} has no legacy PCI device ID", device_id);
}

Result<std::shared_ptr<PciLegacyTransport>> PciLegacyTransport::create(const GuestMemory& mem,
                                                                       std::shared_ptr<VirtioDevice> device,
                                                                       std::shared_ptr<IrqTrigger> irq,
                                                                       std::shared_ptr<pci::MsiSink> msi) {
  auto id = KILN_TRY_VALUE(legacy_pci_identity(device->device_id()));
  auto notify = KILN_TRY_VALUE(make_notify_events(*device));
  std::shared_ptr<PciLegacyTransport> t(
      new PciLegacyTransport(mem, std::move(device), std::move(irq), std::move(notify), id));
  KILN_TRY(t->config_.add_bar(0, pci::BarKind::kIo, pci_legacy::kBarSize));
  if (msi != nullptr) KILN_TRY(t->add_msix(std::move(msi)));
  return t;
}

PciLegacyTransport::PciLegacyTransport(const GuestMemory& mem, std::shared_ptr<VirtioDevice> device,
                                       std::shared_ptr<IrqTrigger> irq, std::vector<EventFd> notify,
                                       const pci::Identity& id)
    : LegacyTransport(mem, std::move(device), std::move(irq), std::move(notify), "virtio-pci"),
      config_(id),
      config_vector_(pci_legacy::kNoVector),
      queue_vectors_(std::make_unique<std::atomic<uint16_t>[]>(num_queues())) {
  for (uint16_t q = 0; q < num_queues(); ++q) queue_vectors_[q].store(pci_legacy::kNoVector);
}

size_t PciLegacyTransport::field_width(uint64_t offset) const {
  switch (offset) {
    case pci_legacy::kHostFeatures:
    case pci_legacy::kGuestFeatures:
    case pci_legacy::kQueueAddress: return 4;
    case pci_legacy::kQueueSize:
    case pci_legacy::kQueueSelect:
    case pci_legacy::kQueueNotify: return 2;
    case pci_legacy::kStatus:
    case pci_legacy::kIsr: return 1;
    case pci_legacy::kConfigVector:
    case pci_legacy::kQueueVector: return msix_enabled() ? 2 : 0;
    default: return 0;
  }
}

uint64_t PciLegacyTransport::config_offset() const {
  return msix_enabled() ? pci_legacy::kConfigMsix : pci_legacy::kConfig;
}

void PciLegacyTransport::bar_read(int bar, uint64_t offset, std::span<uint8_t> data) {
  std::memset(data.data(), 0, data.size());
  if (bar == pci_legacy::kMsixBar && msix_) {
    if (offset < pci_legacy::kMsixPbaOffset) {
      msix_->table_read(offset, data);
    } else {
      msix_->pba_read(offset - pci_legacy::kMsixPbaOffset, data);
    }
    return;
  }
  if (bar != 0) return;
  if (const uint64_t config = config_offset(); offset >= config) {
    read_config(offset - config, data);
    return;
  }
  // Header fields are read whole, at their own width (as Linux's ioread8/16/32 do).
  if (data.size() != field_width(offset)) {
    guest_error(fmt::format("{}-byte read at header offset {} ignored", data.size(), offset));
    return;
  }
  const uint32_t value = read_register(offset);
  std::memcpy(data.data(), &value, data.size());
}

void PciLegacyTransport::bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) {
  if (bar == pci_legacy::kMsixBar && msix_) {
    if (offset < pci_legacy::kMsixPbaOffset) msix_->table_write(offset, data);  // the PBA is read-only
    return;
  }
  if (bar != 0) return;
  if (const uint64_t config = config_offset(); offset >= config) {
    write_config(offset - config, data);
    return;
  }
  if (data.size() != field_width(offset)) {
    guest_error(fmt::format("{}-byte write at header offset {} ignored", data.size(), offset));
    return;
  }
  uint32_t value = 0;
  std::memcpy(&value, data.data(), data.size());
  write_register(offset, value);
}

uint32_t PciLegacyTransport::read_register(uint64_t offset) {
  switch (offset) {
    case pci_legacy::kHostFeatures: return device_features();  // bits 0-31: all this transport has
    case pci_legacy::kGuestFeatures: return driver_features();
    case pci_legacy::kQueueAddress: return queue_pfn();
    case pci_legacy::kQueueSize: return queue_max();
    case pci_legacy::kQueueSelect: return selected_queue();
    case pci_legacy::kStatus: return status();
    case pci_legacy::kIsr: return take_interrupt_status();  // reading clears it (2.2.2)
    case pci_legacy::kConfigVector: return config_vector_.load();
    case pci_legacy::kQueueVector: {
      const uint32_t q = selected_queue();
      return q < num_queues() ? queue_vectors_[q].load() : pci_legacy::kNoVector;
    }
    default: return 0;  // Queue Notify reads 0
  }
}

void PciLegacyTransport::write_register(uint64_t offset, uint32_t value) {
  switch (offset) {
    case pci_legacy::kGuestFeatures: set_driver_features(value); return;
    case pci_legacy::kQueueAddress:
      // The queue has the device's size; 0 releases it (Linux's del_vq).
      set_queue_num(queue_max());
      set_queue_pfn(value);
      return;
    case pci_legacy::kQueueSelect: select_queue(value); return;
    case pci_legacy::kQueueNotify: notify(value); return;
    case pci_legacy::kStatus: set_status(value); return;
    // 2.2.2 "Configuration/Queue Vectors": the register reads back what was accepted.
    case pci_legacy::kConfigVector: config_vector_.store(accept_vector(value)); return;
    case pci_legacy::kQueueVector: {
      const uint32_t q = selected_queue();
      if (q < num_queues()) {
        queue_vectors_[q].store(accept_vector(value));
      } else {
        guest_error(fmt::format("vector {:#x} written for missing queue {}", value, q));
      }
      return;
    }
    default: guest_error(fmt::format("write {:#x} to read-only header offset {} ignored", value, offset));
  }
}

}  // namespace kiln::virtio
