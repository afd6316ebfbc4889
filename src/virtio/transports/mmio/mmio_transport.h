// The legacy virtio-mmio transport (virtio 0.9.5, Appendix X): one 4 KiB register window per
// device on the MMIO bus, one edge-triggered interrupt line. This class decodes the window;
// LegacyTransport holds the registers, activation, interrupts and snapshot state.
#pragma once

#include <memory>

#include "devices/bus.h"
#include "virtio/transports/legacy/legacy_transport.h"

namespace kiln::virtio {

class MmioTransport final : public BusDevice, public LegacyTransport {
 public:
  [[nodiscard]] static Result<std::shared_ptr<MmioTransport>> create(const GuestMemory& mem,
                                                                     std::shared_ptr<VirtioDevice> device,
                                                                     std::shared_ptr<IrqTrigger> irq);

  // BusDevice (Appendix X registers).
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

 private:
  using LegacyTransport::LegacyTransport;
  [[nodiscard]] uint32_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint32_t value);
};

}  // namespace kiln::virtio
