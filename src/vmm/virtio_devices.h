// The VM's virtio devices on the virtio-mmio transport: built from the VmConfig, each in its own
// 4 KiB window with its own GSI (irqfd) and one ioeventfd per queue, and announced to the guest
// on the kernel command line and in the ACPI DSDT.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "arch/x86_64/platform/acpi.h"
#include "devices/bus.h"
#include "kvm/vm_fd.h"
#include "memory/guest_memory.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "vmm/vm_config.h"

namespace kiln {

// Where the windows go: in the 32-bit hole below the IOAPIC, as Firecracker does.
inline constexpr GuestAddress kVirtioMmioBase{0xd0000000};

class VirtioDevices {
 public:
  using Output = std::function<void(std::span<const uint8_t>)>;
  using InputSink = std::function<size_t(std::span<const uint8_t>)>;

  // `console_output` receives the virtio console's output (kiln's stdout).
  [[nodiscard]] static Result<VirtioDevices> create(const VmConfig& config, VmFd& vm, const GuestMemory& mem,
                                                    Bus& mmio, Output console_output);
  VirtioDevices() = default;
  VirtioDevices(VirtioDevices&&) = default;
  VirtioDevices& operator=(VirtioDevices&&) = default;
  ~VirtioDevices() { shutdown(); }

  // " virtio_mmio.device=4K@0xd0000000:5 ..." for the kernel command line (Linux's syntax).
  [[nodiscard]] std::string cmdline_entries() const;
  [[nodiscard]] std::vector<x86::MmioDeviceInfo> acpi_devices() const;
  // The virtio console's input, or an empty function when there is none.
  [[nodiscard]] const InputSink& console_input() const { return console_input_; }
  // Stops every device thread (before guest memory goes away).
  void shutdown();

 private:
  struct Slot {
    GuestAddress base;
    uint32_t gsi;
    std::shared_ptr<virtio::MmioTransport> transport;
  };
  [[nodiscard]] Status add(std::shared_ptr<virtio::VirtioDevice> device, VmFd& vm, const GuestMemory& mem, Bus& mmio);

  std::vector<Slot> slots_;
  InputSink console_input_;
};

}  // namespace kiln
