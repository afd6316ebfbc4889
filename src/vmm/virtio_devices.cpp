#include "vmm/virtio_devices.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio/blk/block_device.h"
#include "virtio/console/console.h"
#include "virtio/net/tap.h"
#include "virtio/rng/rng.h"
#include "virtio/vsock/vsock_device.h"
#include "common/log.h"
#include "virtio/transports/mmio/mmio_regs.h"
#include "virtio/transports/pci/pci_legacy_regs.h"
#include "virtio/transports/pci/pci_legacy_transport.h"
#include "vmm/irqfd_trigger.h"
#include "vmm/msix_irqfds.h"

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
  devices.pci_bus_ = pci != nullptr;
  const auto on = [&](std::optional<VirtioTransport> own) { return effective_transport(own, config.virtio_transport); };
  for (const auto& disk : config.disks) {
    auto blk = virtio::blk::BlockDevice::create({disk.path, disk.readonly, disk.serial, disk.direct});
    if (!blk) return wrap("--disk", blk.error());
    KILN_TRY(devices.add(*blk, disk.id.empty() ? fmt::format("disk{}", devices.drives_.size()) : disk.id,
                         on(disk.transport), vm, mem, mmio, pci));
    devices.drives_.push_back({*blk, devices.slots_.back().transport});
  }
  for (const NetConfig& net : config.nets) {
    auto tap = virtio::net::Tap::open(net.host_dev_name);
    if (!tap) return wrap(fmt::format("network interface {}", net.id), tap.error());
    auto mac = virtio::net::parse_mac(effective_mac(net));
    if (!mac) return wrap(fmt::format("network interface {}", net.id), mac.error());
    auto device = std::make_shared<virtio::net::NetDevice>(std::move(*tap), *mac);
    KILN_TRY(devices.add(device, net.id, on(net.transport), vm, mem, mmio, pci));
    devices.nets_.emplace_back(net.id, std::move(device));
  }
  if (config.rng) KILN_TRY(devices.add(std::make_shared<virtio::Rng>(), "", on(config.rng_transport), vm, mem, mmio, pci));
  if (config.console == ConsoleKind::kVirtio) {
    auto console = std::make_shared<virtio::ConsoleDevice>(std::move(console_output), host_window_size());
    devices.console_input_ = [console](std::span<const uint8_t> in) { return console->enqueue_input(in); };
    KILN_TRY(devices.add(console, "", on(config.console_transport), vm, mem, mmio, pci));
  }
  if (config.vsock) {
    virtio::vsock::MuxerOptions options;
    options.guest_cid = config.vsock->guest_cid;
    options.uds_path = config.vsock->uds_path;
    auto vsock = virtio::vsock::VsockDevice::create(std::move(options));
    if (!vsock) return wrap("vsock", vsock.error());
    KILN_TRY(devices.add(*vsock, "", on(config.vsock->transport), vm, mem, mmio, pci));
  }
  if (!devices.intx_lines_.empty()) {
    auto resampler = IntxResampler::start(std::move(devices.intx_lines_));
    if (!resampler) return wrap("PCI INTx", resampler.error());
    devices.resampler_ = std::move(*resampler);
  }
  return devices;
}

Status VirtioDevices::add(std::shared_ptr<virtio::VirtioDevice> device, std::string id, VirtioTransport transport,
                          VmFd& vm, const GuestMemory& mem, Bus& mmio, pci::PciBus* pci) {
  const size_t index = slots_.size();
  if (index >= std::size(kVirtioGsis)) return fail("too many virtio devices (at most {})", std::size(kVirtioGsis));
  const std::string name = fmt::format("virtio-{}", device->name());
  std::string kind(device->name());
  device->guest_errors().set_label(virtio_device_name(kind, id));
  const bool on_pci = transport == VirtioTransport::kPci;
  if (on_pci && pci == nullptr) return fail("{}: on virtio-PCI, but the VM has no PCI bus", name);
  auto slot = on_pci ? add_pci(std::move(device), kVirtioGsis[index], vm, mem, *pci)
                     : add_mmio(std::move(device), kVirtioGsis[index], vm, mem, mmio);
  if (!slot) return wrap(name, slot.error());
  slot->kind = std::move(kind);
  slot->id = std::move(id);
  slot->on_pci = on_pci;
  if (!on_pci) ++mmio_windows_;
  slots_.push_back(std::move(*slot));
  return {};
}

Result<VirtioSlot> VirtioDevices::add_mmio(std::shared_ptr<virtio::VirtioDevice> device, uint32_t gsi, VmFd& vm,
                                           const GuestMemory& mem, Bus& mmio) {
  const GuestAddress base = kVirtioMmioBase.unchecked_add(mmio_windows_ * virtio::mmio::kWindowSize);
  const std::string name = fmt::format("virtio-{}", device->name());
  auto irq = KILN_TRY_VALUE(IrqfdTrigger::create(vm, gsi));
  auto transport = KILN_TRY_VALUE(virtio::MmioTransport::create(mem, std::move(device), std::move(irq)));
  KILN_TRY(mmio.add(base.raw(), virtio::mmio::kWindowSize, transport, name));
  // Queue notifications complete inside KVM (no exit) when the written value names the queue.
  const auto& notify = transport->notify_events();
  for (size_t q = 0; q < notify.size(); ++q) {
    KILN_TRY(vm.ioeventfd_mmio(notify[q].fd(), base.unchecked_add(virtio::mmio::kQueueNotify), 4, q));
  }
  return VirtioSlot{"", "", base, gsi, std::move(transport)};
}

Result<VirtioSlot> VirtioDevices::add_pci(std::shared_ptr<virtio::VirtioDevice> device, uint32_t gsi, VmFd& vm,
                                          const GuestMemory& mem, pci::PciBus& pci) {
  auto irq = KILN_TRY_VALUE(IrqfdLevelTrigger::create(vm, gsi));
  if (!gsi_routes_) gsi_routes_ = std::make_shared<GsiRoutes>(vm);
  // One MSI-X vector per queue and one for configuration changes (what the transport offers).
  auto msi = KILN_TRY_VALUE(MsixIrqfds::create(vm, gsi_routes_, static_cast<uint16_t>(device->num_queues() + 1)));
  auto transport = KILN_TRY_VALUE(virtio::PciLegacyTransport::create(mem, std::move(device), irq, std::move(msi)));
  transport->config().set_interrupt_line(static_cast<uint8_t>(gsi));  // as firmware would (ISA-style GSI)
  // The notify ioeventfds follow BAR 0 wherever the guest lets it decode (on the bus's lock).
  virtio::PciLegacyTransport* t = transport.get();
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
  auto slot = KILN_TRY_VALUE(pci.add(transport, std::move(follow_bar)));
  intx_lines_.push_back({irq->resample().fd(), [t] { t->reassert_if_pending(); }});
  pci_routes_.push_back({slot, gsi});
  const GuestAddress io(transport->config().bar_address(0));  // the I/O port kiln placed BAR 0 at
  return VirtioSlot{"", "", io, gsi, std::move(transport)};
}

std::string VirtioDevices::cmdline_entries() const {
  std::string out;
  for (const auto& s : slots_) {
    if (!s.on_pci) out += fmt::format(" virtio_mmio.device=4K@{:#x}:{}", s.base.raw(), s.gsi);
  }
  return out;
}

std::vector<x86::MmioDeviceInfo> VirtioDevices::acpi_devices() const {
  std::vector<x86::MmioDeviceInfo> out;
  for (const auto& s : slots_) {
    if (s.on_pci) continue;
    x86::MmioDeviceInfo info;
    info.base = s.base;
    info.size = virtio::mmio::kWindowSize;
    info.gsi = s.gsi;
    out.push_back(info);
  }
  return out;
}

std::vector<ManagedDevice> VirtioDevices::managed_devices() const {
  std::vector<ManagedDevice> out;
  for (const auto& s : slots_) out.push_back(managed_virtio_device(s));
  return out;
}

std::optional<x86::PciRootInfo> VirtioDevices::acpi_pci_root() const {
  if (!pci_bus_) return std::nullopt;
  x86::PciRootInfo root;
  root.io_min = static_cast<uint16_t>(kPciIoWindow.base);
  root.io_max = static_cast<uint16_t>(kPciIoWindow.base + kPciIoWindow.size - 1);
  root.mem_min = static_cast<uint32_t>(kPciMemWindow.base);
  root.mem_max = static_cast<uint32_t>(kPciMemWindow.base + kPciMemWindow.size - 1);
  root.intx = pci_routes_;
  return root;
}

std::vector<x86::MpPciInterrupt> VirtioDevices::mp_pci_interrupts() const {
  std::vector<x86::MpPciInterrupt> out;
  for (const auto& r : pci_routes_) out.push_back({static_cast<uint8_t>(r.slot), static_cast<uint8_t>(r.gsi)});
  return out;
}

void VirtioDevices::shutdown() {
  resampler_.reset();  // before the transports its callbacks reach
  for (auto& s : slots_) s.transport->shutdown();
}

Status VirtioDevices::replace_disk(size_t index, const std::string& path) {
  if (index >= drives_.size()) return fail("there is no disk {}", index);
  const Drive& drive = drives_[index];
  // Through the transport: no guest reset or config read overlaps the swap.
  return drive.transport->change_device([&]() -> Result<bool> {
    KILN_TRY(drive.device->replace_image(path));
    return true;  // a new capacity to read
  });
}

std::vector<std::pair<std::string, virtio::net::NetCounters>> VirtioDevices::net_counters() const {
  std::vector<std::pair<std::string, virtio::net::NetCounters>> out;
  for (const auto& [id, device] : nets_) out.emplace_back(id, device->counters());
  return out;
}

size_t VirtioDevices::announce_nets() {
  size_t asked = 0;
  for (const auto& [id, device] : nets_) asked += device->announce() ? 1 : 0;
  return asked;
}

std::vector<std::pair<std::string, uint64_t>> VirtioDevices::guest_error_counts() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& s : slots_) {
    const auto& errors = s.transport->device().guest_errors();
    out.emplace_back(errors.label(), errors.count());
  }
  return out;
}

}  // namespace kiln
