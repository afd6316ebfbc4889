#include "virtio/transports/mmio/mmio_transport.h"

#include <cstring>

#include "virtio/transports/mmio/mmio_regs.h"

namespace kiln::virtio {

Result<std::shared_ptr<MmioTransport>> MmioTransport::create(const GuestMemory& mem,
                                                             std::shared_ptr<VirtioDevice> device,
                                                             std::shared_ptr<IrqTrigger> irq) {
  auto notify = KILN_TRY_VALUE(make_notify_events(*device));
  return std::shared_ptr<MmioTransport>(
      new MmioTransport(mem, std::move(device), std::move(irq), std::move(notify), "virtio-mmio"));
}

void MmioTransport::read(uint64_t offset, std::span<uint8_t> data) {
  std::memset(data.data(), 0, data.size());
  if (offset >= mmio::kConfig) {
    read_config(offset - mmio::kConfig, data);
    return;
  }
  // Appendix X: registers are 32 bits wide and read as whole words.
  if (data.size() != 4 || offset % 4 != 0) {
    guest_error(fmt::format("{}-byte read at {:#x} ignored", data.size(), offset));
    return;
  }
  const uint32_t value = read_register(offset);
  std::memcpy(data.data(), &value, 4);
}

void MmioTransport::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset >= mmio::kConfig) {
    write_config(offset - mmio::kConfig, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) {
    guest_error(fmt::format("{}-byte write at {:#x} ignored", data.size(), offset));
    return;
  }
  uint32_t value = 0;
  std::memcpy(&value, data.data(), 4);
  write_register(offset, value);
}

uint32_t MmioTransport::read_register(uint64_t offset) {
  switch (offset) {
    case mmio::kMagicValue: return mmio::kMagic;
    case mmio::kVersion: return mmio::kLegacyVersion;
    case mmio::kDeviceId: return device().device_id();
    case mmio::kVendorId: return mmio::kVendor;
    case mmio::kHostFeatures: return device_features();
    case mmio::kQueueNumMax: return queue_max();
    case mmio::kQueuePfn: return queue_pfn();
    case mmio::kInterruptStatus: return interrupt_status();
    case mmio::kStatus: return status();
    default: return 0;  // write-only and reserved registers read as 0
  }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value) {
  switch (offset) {
    case mmio::kQueueNotify: notify(value); return;
    case mmio::kInterruptAck: ack_interrupt(value); return;
    case mmio::kHostFeaturesSel: select_device_features(value); return;
    case mmio::kGuestFeaturesSel: select_driver_features(value); return;
    case mmio::kGuestFeatures: set_driver_features(value); return;
    case mmio::kGuestPageSize: set_page_size(value); return;
    case mmio::kQueueSel: select_queue(value); return;
    case mmio::kQueueNum: set_queue_num(value); return;
    case mmio::kQueueAlign: set_queue_align(value); return;
    case mmio::kQueuePfn: set_queue_pfn(value); return;
    case mmio::kStatus: set_status(value); return;
    default: guest_error(fmt::format("write {:#x} to read-only or reserved {:#x} ignored", value, offset));
  }
}

}  // namespace kiln::virtio
