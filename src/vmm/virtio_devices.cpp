#include "vmm/virtio_devices.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio/blk/block_device.h"
#include "virtio/console/console.h"
#include "virtio/rng/rng.h"
#include "virtio/transports/mmio/mmio_regs.h"
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
                                            Output console_output) {
  VirtioDevices devices;
  for (const auto& disk : config.disks) {
    auto blk = virtio::blk::BlockDevice::create({disk.path, disk.readonly, disk.serial, disk.direct});
    if (!blk) return wrap("--disk", blk.error());
    KILN_TRY(devices.add(std::move(*blk), disk.id, vm, mem, mmio));
  }
  if (config.rng) KILN_TRY(devices.add(std::make_shared<virtio::Rng>(), "", vm, mem, mmio));
  if (config.console == ConsoleKind::kVirtio) {
    auto console = std::make_shared<virtio::ConsoleDevice>(std::move(console_output), host_window_size());
    devices.console_input_ = [console](std::span<const uint8_t> in) { return console->enqueue_input(in); };
    KILN_TRY(devices.add(console, "", vm, mem, mmio));
  }
  return devices;
}

Status VirtioDevices::add(std::shared_ptr<virtio::VirtioDevice> device, std::string id, VmFd& vm,
                          const GuestMemory& mem, Bus& mmio) {
  const size_t index = slots_.size();
  if (index >= std::size(kVirtioGsis)) return fail("too many virtio devices (at most {})", std::size(kVirtioGsis));
  const GuestAddress base = kVirtioMmioBase.unchecked_add(index * virtio::mmio::kWindowSize);
  const uint32_t gsi = kVirtioGsis[index];
  const std::string name = fmt::format("virtio-{}", device->name());
  std::string kind(device->name());
  auto irq = IrqfdTrigger::create(vm, gsi);
  if (!irq) return wrap(name, irq.error());
  auto transport = virtio::MmioTransport::create(mem, std::move(device), std::move(*irq));
  if (!transport) return wrap(name, transport.error());
  KILN_TRY(mmio.add(base.raw(), virtio::mmio::kWindowSize, *transport, name));
  // Queue notifications complete inside KVM (no exit) when the written value names the queue.
  const auto& notify = (*transport)->notify_events();
  for (size_t q = 0; q < notify.size(); ++q) {
    auto ok = vm.ioeventfd_mmio(notify[q].fd(), base.unchecked_add(virtio::mmio::kQueueNotify), 4, q);
    if (!ok) return wrap(name, ok.error());
  }
  slots_.push_back({std::move(kind), std::move(id), base, gsi, std::move(*transport)});
  return {};
}

std::string VirtioDevices::cmdline_entries() const {
  std::string out;
  for (const auto& s : slots_) out += fmt::format(" virtio_mmio.device=4K@{:#x}:{}", s.base.raw(), s.gsi);
  return out;
}

std::vector<x86::MmioDeviceInfo> VirtioDevices::acpi_devices() const {
  std::vector<x86::MmioDeviceInfo> out;
  for (const auto& s : slots_) {
    x86::MmioDeviceInfo info;
    info.base = s.base;
    info.size = virtio::mmio::kWindowSize;
    info.gsi = s.gsi;
    out.push_back(info);
  }
  return out;
}

void VirtioDevices::shutdown() {
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
