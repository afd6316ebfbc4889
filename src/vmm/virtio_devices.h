// The VM's virtio devices, built from the VmConfig, each with its own GSI and one ioeventfd per
// queue. On virtio-mmio: each in its own 4 KiB window with an edge-triggered irqfd, announced to
// the guest on the kernel command line and in the ACPI DSDT. On legacy virtio-PCI: each a function
// on PCI bus 0 with an I/O BAR and INTx pin A routed to its GSI (Interrupt Line), level-triggered
// through an irqfd with resampling. For snapshots: pause/resume and state of all of them
// (vmm/virtio_state.h).
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
#include "pci/pci_bus.h"
#include "snapshot/codec.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "vmm/intx_resampler.h"
#include "vmm/virtio_state.h"
#include "vmm/vm_config.h"

namespace kiln {

// Where the windows go: in the 32-bit hole below the IOAPIC, as Firecracker does.
inline constexpr GuestAddress kVirtioMmioBase{0xd0000000};
// The PCI windows kiln places BARs in: the top 16 KiB of port space (as QEMU's PC machine) and
// 256 MiB of the 32-bit hole below the virtio-mmio windows.
inline constexpr pci::Window kPciIoWindow{0xc000, 0x4000};
inline constexpr pci::Window kPciMemWindow{0xc0000000, 0x10000000};

class VirtioDevices {
 public:
  using Output = std::function<void(std::span<const uint8_t>)>;
  using InputSink = std::function<size_t(std::span<const uint8_t>)>;

  // `console_output` receives the virtio console's output (kiln's stdout). With `pci` the devices
  // are virtio-PCI functions on it (VmConfig::virtio_transport chose it), else virtio-mmio windows.
  [[nodiscard]] static Result<VirtioDevices> create(const VmConfig& config, VmFd& vm, const GuestMemory& mem,
                                                    Bus& mmio, pci::PciBus* pci, Output console_output);
  VirtioDevices() = default;
  VirtioDevices(VirtioDevices&&) = default;
  VirtioDevices& operator=(VirtioDevices&&) = default;
  ~VirtioDevices() { shutdown(); }

  // " virtio_mmio.device=4K@0xd0000000:5 ..." for the kernel command line (Linux's syntax); empty
  // on PCI, like acpi_devices().
  [[nodiscard]] std::string cmdline_entries() const;
  [[nodiscard]] std::vector<x86::MmioDeviceInfo> acpi_devices() const;
  // On PCI: bus 0's windows and each function's INTx route, for the DSDT's root bridge.
  [[nodiscard]] std::optional<x86::PciRootInfo> acpi_pci_root() const;
  // The virtio console's input, or an empty function when there is none.
  [[nodiscard]] const InputSink& console_input() const { return console_input_; }
  // Stops every device thread (before guest memory goes away).
  void shutdown();
  // Disk `index` (configuration order) gets a new backing file (PATCH /drives).
  [[nodiscard]] Status replace_disk(size_t index, const std::string& path);

  // Snapshot support. Call with every vCPU parked (out of KVM_RUN); never concurrently.
  // pause(): every device completes its requests in flight (used ring + interrupt) and goes quiet:
  // no guest memory access, no interrupt until resume(). Save the interrupt controller's state
  // after this (the completions may raise interrupts). Pausing twice is pausing once. A device
  // that cannot complete its I/O is logged; save_state() then refuses.
  void pause() { pause_virtio_slots(slots_); }
  // Devices serve again (queue notifies made meanwhile are picked up). Also required after
  // restore_state(), which leaves every device paused.
  void resume() { resume_virtio_slots(slots_); }
  // While paused.
  [[nodiscard]] Status save_state(snapshot::Encoder& out) const { return save_virtio_slots(slots_, out); }
  // After create() from the snapshot's configuration and after guest memory was restored, before
  // any vCPU runs. Refuses another device set; on error every device is left reset.
  // On PCI, a line whose device has an interrupt pending is raised (the guest's EOI may have
  // lowered it just before the snapshot).
  [[nodiscard]] Status restore_state(snapshot::Decoder& in);

 private:
  [[nodiscard]] Status add(std::shared_ptr<virtio::VirtioDevice> device, std::string id, VmFd& vm,
                           const GuestMemory& mem, Bus& mmio, pci::PciBus* pci);
  [[nodiscard]] Result<VirtioSlot> add_mmio(std::shared_ptr<virtio::VirtioDevice> device, size_t index, VmFd& vm,
                                            const GuestMemory& mem, Bus& mmio);
  [[nodiscard]] Result<VirtioSlot> add_pci(std::shared_ptr<virtio::VirtioDevice> device, uint32_t gsi, VmFd& vm,
                                           const GuestMemory& mem, pci::PciBus& pci);

  std::vector<VirtioSlot> slots_;
  bool pci_ = false;
  std::vector<x86::PciRootInfo::Route> pci_routes_;
  std::vector<IntxResampler::Line> intx_lines_;  // PCI: handed to the resampler once all are added
  std::unique_ptr<IntxResampler> resampler_;
  InputSink console_input_;
};

}  // namespace kiln
