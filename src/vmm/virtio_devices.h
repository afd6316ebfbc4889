// The VM's virtio devices, built from the VmConfig, each with its own GSI and one ioeventfd per
// queue, each on its own transport (config/virtio_placement.h), so one VM may have both. On
// virtio-mmio: each in its own 4 KiB window with an edge-triggered irqfd, announced to the guest
// on the kernel command line and in the ACPI DSDT. On legacy virtio-PCI: each a function on PCI
// bus 0 with an I/O BAR and INTx pin A routed to its GSI (Interrupt Line), level-triggered
// through an irqfd with resampling. Each is registered with the device manager for pause, resume
// and snapshots (vmm/virtio_state.h).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "arch/x86_64/platform/acpi.h"
#include "arch/x86_64/platform/mptable.h"
#include "devices/bus.h"
#include "kvm/vm_fd.h"
#include "memory/guest_memory.h"
#include "pci/pci_bus.h"
#include "snapshot/codec.h"
#include "virtio/blk/block_device.h"
#include "virtio/net/net_device.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "vmm/gsi_routes.h"
#include "vmm/intx_resampler.h"
#include "vmm/virtio_state.h"
#include "config/vm_config.h"

namespace kiln {

// Where the windows go: in the 32-bit hole below the IOAPIC, as Firecracker does; the i-th
// virtio-mmio device (in device order, PCI ones not counted) at kVirtioMmioBase + 4 KiB * i.
inline constexpr GuestAddress kVirtioMmioBase{0xd0000000};
// The PCI windows kiln places BARs in: the top 16 KiB of port space (as QEMU's PC machine) and
// 256 MiB of the 32-bit hole below the virtio-mmio windows.
inline constexpr pci::Window kPciIoWindow{0xc000, 0x4000};
inline constexpr pci::Window kPciMemWindow{0xc0000000, 0x10000000};

class VirtioDevices {
 public:
  using Output = std::function<void(std::span<const uint8_t>)>;
  using InputSink = std::function<size_t(std::span<const uint8_t>)>;

  // `console_output` receives the virtio console's output (kiln's stdout). Devices whose transport
  // is PCI become functions on `pci`, which must then exist (needs_pci_bus()); the others
  // virtio-mmio windows.
  [[nodiscard]] static Result<VirtioDevices> create(const VmConfig& config, VmFd& vm, const GuestMemory& mem,
                                                    Bus& mmio, pci::PciBus* pci, Output console_output);
  VirtioDevices() = default;
  VirtioDevices(VirtioDevices&&) = default;
  VirtioDevices& operator=(VirtioDevices&&) = default;
  ~VirtioDevices() { shutdown(); }

  // " virtio_mmio.device=4K@0xd0000000:5 ..." for the kernel command line (Linux's syntax): the
  // virtio-mmio devices only, as acpi_devices().
  [[nodiscard]] std::string cmdline_entries() const;
  [[nodiscard]] std::vector<x86::MmioDeviceInfo> acpi_devices() const;
  // With a PCI bus: bus 0's windows and each function's INTx route, for the DSDT's root bridge.
  [[nodiscard]] std::optional<x86::PciRootInfo> acpi_pci_root() const;
  // Each virtio-PCI function's INTA# and its IOAPIC pin, for the MP table (kernels without ACPI).
  [[nodiscard]] std::vector<x86::MpPciInterrupt> mp_pci_interrupts() const;
  // The virtio console's input, or an empty function when there is none.
  [[nodiscard]] const InputSink& console_input() const { return console_input_; }
  // Stops every device thread (before guest memory goes away).
  void shutdown();
  // Disk `index` (configuration order) gets a new backing file (PATCH /drives), swapped under
  // its transport's lock with the device paused; the driver is told the new capacity.
  [[nodiscard]] Status replace_disk(size_t index, const std::string& path);
  // Each network interface's id and its frame, byte and drop counters, in configuration order.
  [[nodiscard]] std::vector<std::pair<std::string, virtio::net::NetCounters>> net_counters() const;
  // After a restore, once the devices run: every interface whose driver negotiated GUEST_ANNOUNCE
  // is asked to announce itself (gratuitous ARP); returns how many were asked.
  size_t announce_nets();
  // Each device's label ("virtio-blk disk0") and the guest errors it counted, in device order.
  [[nodiscard]] std::vector<std::pair<std::string, uint64_t>> guest_error_counts() const;

  // Each device for the device manager, in device order: pause, resume and snapshot state
  // (virtio_state.h). Pausing completes every request in flight (used ring + interrupt) and
  // leaves the device quiet: save the interrupt controller's state after it.
  [[nodiscard]] std::vector<ManagedDevice> managed_devices() const;

 private:
  [[nodiscard]] Status add(std::shared_ptr<virtio::VirtioDevice> device, std::string id, VirtioTransport transport,
                           VmFd& vm, const GuestMemory& mem, Bus& mmio, pci::PciBus* pci);
  [[nodiscard]] Result<VirtioSlot> add_mmio(std::shared_ptr<virtio::VirtioDevice> device, uint32_t gsi, VmFd& vm,
                                            const GuestMemory& mem, Bus& mmio);
  [[nodiscard]] Result<VirtioSlot> add_pci(std::shared_ptr<virtio::VirtioDevice> device, uint32_t gsi, VmFd& vm,
                                           const GuestMemory& mem, pci::PciBus& pci);

  // A disk with its transport: what PATCH /drives changes.
  struct Drive {
    std::shared_ptr<virtio::blk::BlockDevice> device;
    std::shared_ptr<virtio::LegacyTransport> transport;
  };

  std::vector<VirtioSlot> slots_;
  std::vector<Drive> drives_;  // configuration order
  std::vector<std::pair<std::string, std::shared_ptr<virtio::net::NetDevice>>> nets_;  // id, device
  bool pci_bus_ = false;  // the VM has PCI bus 0
  size_t mmio_windows_ = 0;  // virtio-mmio devices so far
  std::vector<x86::PciRootInfo::Route> pci_routes_;
  std::vector<IntxResampler::Line> intx_lines_;  // PCI: handed to the resampler once all are added
  std::unique_ptr<IntxResampler> resampler_;
  std::shared_ptr<GsiRoutes> gsi_routes_;  // PCI: the MSI-X vectors' routes
  InputSink console_input_;
};

}  // namespace kiln
