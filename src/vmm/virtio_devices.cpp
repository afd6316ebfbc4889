#include "vmm/virtio_devices.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio/blk/block_device.h"
#include "virtio/console/console.h"
#include "virtio/rng/rng.h"
#include "common/log.h"
#include "virtio/transports/mmio/mmio_regs.h"
#include "virtio/transports/pci/pci_legacy_regs.h"
#include "virtio/transports/pci/pci_legacy_transport.h"
#include "vmm/irqfd_trigger.h"

namespace kiln {
namespace {

// IOAPIC pins free for virtio: not 0-2 (PIT, cascade), 3-4 (COM2/COM1), 8 (RTC).
constexpr uint32_t kVirtioGsis[] = {5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

// The host terminal's size for the console's config space (80x25 when stdout is no terminal).
virtio::WindowSize host_window_size() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    return virtio::WindowSize{ws.ws_col, ws.ws_row};
  }
  return {};
}

}  // namespace

Result<VirtioDevices> VirtioDevices::create(const VmConfig& config, VmFd& vm, const GuestMemory& mem, Bus& mmio,
                                            pci::PciBus* pci, Output console_output) {
  VirtioDevices devices;
  devices.pci_ = pci != nullptr;
  for (const auto& disk : config.disks) {
    auto blk = virtio::blk::BlockDevice::create({disk.path, disk.readonly, disk.serial, disk.direct});
    if (!blk) return wrap("--disk", blk.error());
    KILN_TRY(devices.add(std::move(*blk), disk.id, vm, mem, mmio, pci));
  }
  if (config.rng) KILN_TRY(devices.add(std::make_shared<virtio::Rng>(), "", vm, mem, mmio, pci));
  if (config.console == ConsoleKind::kVirtio) {
    auto console = std::make_shared<virtio::ConsoleDevice>(std::move(console_output), host_window_size());
    devices.console_input_ = [console](std::span<const uint8_t> in) { return console->enqueue_input(in); };
    KILN_TRY(devices.add(console, "", vm, mem, mmio, pci));
  }
  if (!devices.intx_lines_.empty()) {
    auto resampler = IntxResampler::start(std::move(devices.intx_lines_));
    if (!resampler) return wrap("PCI INTx", resampler.error());
    devices.resampler_ = std::move(*resampler);
  }
  return devices;
}

Status VirtioDevices::add(std::shared_ptr<virtio::VirtioDevice> device, std::string id, VmFd& vm,
                          const GuestMemory& mem, Bus& mmio, pci::PciBus* pci) {
  const size_t index = slots_.size();
  if (index >= std::size(kVirtioGsis)) return fail("too many virtio devices (at most {})", std::size(kVirtioGsis));
  const std::string name = fmt::format("virtio-{}", device->name());
  std::string kind(device->name());
  auto slot = pci != nullptr ? add_pci(std::move(device), kVirtioGsis[index], vm, mem, *pci)
                             : add_mmio(std::move(device), index, vm, mem, mmio);
  if (!slot) return wrap(name, slot.error());
  slot->kind = std::move(kind);
  slot->id = std::move(id);
  slots_.push_back(std::move(*slot));
  return {};
}

Result<VirtioSlot> VirtioDevices::add_mmio(std::shared_ptr<virtio::VirtioDevice> device, size_t index, VmFd& vm,
                                           const GuestMemory& mem, Bus& mmio) {
  const GuestAddress base = kVirtioMmioBase.unchecked_add(index * virtio::mmio::kWindowSize);
  const uint32_t gsi = kVirtioGsis[index];
  const std::string name = fmt::format("virtio-{}", device->name());
  auto irq = IrqfdTrigger::create(vm, gsi);
  if (!irq) return tl::unexpected(irq.error());
  auto transport = virtio::MmioTransport::create(mem, std::move(device), std::move(*irq));
  if (!transport) return tl::unexpected(transport.error());
  KILN_TRY(mmio.add(base.raw(), virtio::mmio::kWindowSize, *transport, name));
  // Queue notifications complete inside KVM (no exit) when the written value names the queue.
  const auto& notify = (*transport)->notify_events();
  for (size_t q = 0; q < notify.size(); ++q) {
    KILN_TRY(vm.ioeventfd_mmio(notify[q].fd(), base.unchecked_add(virtio::mmio::kQueueNotify), 4, q));
  }
  return VirtioSlot{"", "", base, gsi, std::move(*transport)};
}

Result<VirtioSlot> VirtioDevices::add_pci(std::shared_ptr<virtio::VirtioDevice> device, uint32_t gsi, VmFd& vm,
                                          const GuestMemory& mem, pci::PciBus& pci) {
  auto irq = IrqfdLevelTrigger::create(vm, gsi);
  if (!irq) return tl::unexpected(irq.error());
  auto transport = virtio::PciLegacyTransport::create(mem, std::move(device), *irq);
  if (!transport) return tl::unexpected(transport.error());
  (*transport)->config().set_interrupt_line(static_cast<uint8_t>(gsi));  // as firmware would (ISA-style GSI)
  // The notify ioeventfds follow BAR 0 wherever the guest lets it decode (on the bus's lock).
  virtio::PciLegacyTransport* t = transport->get();
  auto follow_bar = [&vm, t](int bar, std::optional<uint64_t> old, std::optional<uint64_t> now) {
    if (bar != 0) return;
    const auto& notify = t->notify_events();
    for (size_t q = 0; q < notify.size(); ++q) {
      for (const auto& [at, assign] : {std::pair{old, false}, std::pair{now, true}}) {
        if (!at) continue;
        const auto port = static_cast<uint16_t>(*at + virtio::pci_legacy::kQueueNotify);
        if (auto ok = vm.ioeventfd_pio(notify[q].fd(), port, 2, q, assign); !ok) {
          log("virtio-pci {}: {} (notifies now go through kiln)", t->device().name(), ok.error().message);
        }
      }
    }
  };
  auto slot = pci.add(*transport, std::move(follow_bar));
  if (!slot) return tl::unexpected(slot.error());
  intx_lines_.push_back({(*irq)->resample().fd(), [t] { t->reassert_if_pending(); }});
  pci_routes_.push_back({*slot, gsi});
  const GuestAddress io((*transport)->config().bar_address(0));  // the I/O port kiln placed BAR 0 at
  return VirtioSlot{"", "", io, gsi, std::move(*transport)};
}

std::string VirtioDevices::cmdline_entries() const {
  std::string out;
  if (pci_) return out;
  for (const auto& s : slots_) out += fmt::format(" virtio_mmio.device=4K@{:#x}:{}", s.base.raw(), s.gsi);
  return out;
}

std::vector<x86::MmioDeviceInfo> VirtioDevices::acpi_devices() const {
  std::vector<x86::MmioDeviceInfo> out;
  if (pci_) return out;
  for (const auto& s : slots_) {
    x86::MmioDeviceInfo info;
    info.base = s.base;
    info.size = virtio::mmio::kWindowSize;
    info.gsi = s.gsi;
    out.push_back(info);
  }
  return out;
}

Status VirtioDevices::restore_state(snapshot::Decoder& in) {
  KILN_TRY(restore_virtio_slots(slots_, in));
  if (pci_) {
    for (const auto& s : slots_) s.transport->reassert_if_pending();
  }
  return {};
}

std::optional<x86::PciRootInfo> VirtioDevices::acpi_pci_root() const {
  if (!pci_) return std::nullopt;
  x86::PciRootInfo root;
  root.io_min = static_cast<uint16_t>(kPciIoWindow.base);
  root.io_max = static_cast<uint16_t>(kPciIoWindow.base + kPciIoWindow.size - 1);
  root.mem_min = static_cast<uint32_t>(kPciMemWindow.base);
  root.mem_max = static_cast<uint32_t>(kPciMemWindow.base + kPciMemWindow.size - 1);
  root.intx = pci_routes_;
  return root;
}

void VirtioDevices::shutdown() {
  resampler_.reset();  // before the transports its callbacks reach
  for (auto& s : slots_) s.transport->shutdown();
}

Status VirtioDevices::replace_disk(size_t index, const std::string& path) {
  size_t seen = 0;
  for (const auto& slot : slots_) {
    auto* disk = dynamic_cast<virtio::blk::BlockDevice*>(&slot.transport->device());
    if (disk == nullptr) continue;
    if (seen++ == index) return disk->replace_image(path);
  }
  return fail("there is no disk {}", index);
}

}  // namespace kiln
