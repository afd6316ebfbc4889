#include "pci/pci_bus.h"

#include <algorithm>
#include <mutex>

namespace kiln::pci {
namespace {

constexpr uint32_t kClassHostBridge = 0x060000;

// 00:00.0: configuration space only.
class HostBridge final : public PciDevice {
 public:
  HostBridge()
      : config_(Identity{PciBus::kHostBridgeVendor, PciBus::kHostBridgeDevice, 0, kClassHostBridge, 0, 0, 0}) {}
  ConfigSpace& config() override { return config_; }
  void bar_read(int, uint64_t, std::span<uint8_t> data) override { std::fill(data.begin(), data.end(), 0xff); }
  void bar_write(int, uint64_t, std::span<const uint8_t>) override {}

 private:
  ConfigSpace config_;
};

// One of the windows on kiln's port or MMIO bus.
class WindowDevice final : public BusDevice {
 public:
  WindowDevice(std::shared_ptr<PciBus> bus, BarKind space) : bus_(std::move(bus)), space_(space) {}
  void read(uint64_t offset, std::span<uint8_t> data) override {
    if (!bus_->read(space_, bus_->window(space_).base + offset, data)) std::fill(data.begin(), data.end(), 0xff);
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    (void)bus_->write(space_, bus_->window(space_).base + offset, data);
  }

 private:
  const std::shared_ptr<PciBus> bus_;
  const BarKind space_;
};

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

PciBus::PciBus(Window io, Window mem) : io_(io), mem_(mem), next_io_(io.base), next_mem_(mem.base) {
  slots_[0].device = std::make_shared<HostBridge>();
}

Result<uint32_t> PciBus::add(std::shared_ptr<PciDevice> device, DecodeListener on_decode) {
  std::unique_lock lock(mu_);
  auto free = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.device == nullptr; });
  if (free == slots_.end()) return fail("PCI bus 0 is full ({} slots)", kSlots);
  ConfigSpace& config = device->config();
  uint64_t io = next_io_;
  uint64_t mem = next_mem_;
  for (int i = 0; i < kNumBars; ++i) {
    const auto& bar = config.bar(i);
    if (!bar) continue;
    const bool is_io = bar->kind == BarKind::kIo;
    uint64_t& next = is_io ? io : mem;
    const Window& w = is_io ? io_ : mem_;
    const uint64_t at = align_up(next, bar->size);
    if (at + bar->size > w.base + w.size) {
      return fail("the PCI {} window {:#x}+{:#x} has no room for a {:#x}-byte BAR", is_io ? "I/O" : "memory", w.base,
                  w.size, bar->size);
    }
    KILN_TRY(config.place_bar(i, at));
    next = at + bar->size;
  }
  next_io_ = io;
  next_mem_ = mem;
  *free = Slot{std::move(device), std::move(on_decode)};
  return static_cast<uint32_t>(free - slots_.begin());
}

void PciBus::config_read(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset, std::span<uint8_t> data) {
  std::shared_lock lock(mu_);
  if (bus != 0 || function != 0 || device >= kSlots || slots_[device].device == nullptr) {
    std::fill(data.begin(), data.end(), 0xff);
    return;
  }
  slots_[device].device->config_read(offset, data);
}

void PciBus::config_write(uint32_t bus, uint32_t device, uint32_t function, uint32_t offset,
                          std::span<const uint8_t> data) {
  std::unique_lock lock(mu_);
  if (bus != 0 || function != 0 || device >= kSlots || slots_[device].device == nullptr) return;
  PciDevice& target = *slots_[device].device;
  change_config_locked(slots_[device], [&](ConfigSpace&) { target.config_write(offset, data); });
}

void PciBus::change_config_locked(Slot& slot, const std::function<void(ConfigSpace&)>& change) {
  ConfigSpace& config = slot.device->config();
  std::array<std::optional<uint64_t>, kNumBars> before;
  for (int i = 0; i < kNumBars; ++i) before[i] = config.decoded_bar(i);
  change(config);
  if (!slot.on_decode) return;
  for (int i = 0; i < kNumBars; ++i) {
    const auto now = config.decoded_bar(i);
    if (now != before[i]) slot.on_decode(i, before[i], now);
  }
}

PciDevice* PciBus::route(BarKind space, uint64_t address, size_t size, int& bar, uint64_t& offset) const {
  for (const Slot& slot : slots_) {
    if (slot.device == nullptr) continue;
    const ConfigSpace& config = slot.device->config();
    for (int i = 0; i < kNumBars; ++i) {
      const auto& b = config.bar(i);
      if (!b || b->kind != space) continue;
      const auto base = config.decoded_bar(i);
      if (!base || address < *base || address - *base >= b->size || size > b->size - (address - *base)) continue;
      bar = i;
      offset = address - *base;
      return slot.device.get();
    }
  }
  return nullptr;
}

template <class Access>
bool PciBus::with_bar(BarKind space, uint64_t address, size_t size, Access access) {
  std::shared_lock lock(mu_);
  int bar = 0;
  uint64_t offset = 0;
  PciDevice* device = route(space, address, size, bar, offset);
  if (device == nullptr) return false;
  access(*device, bar, offset);
  return true;
}

bool PciBus::read(BarKind space, uint64_t address, std::span<uint8_t> data) {
  return with_bar(space, address, data.size(), [&](PciDevice& d, int bar, uint64_t at) { d.bar_read(bar, at, data); });
}

bool PciBus::write(BarKind space, uint64_t address, std::span<const uint8_t> data) {
  return with_bar(space, address, data.size(), [&](PciDevice& d, int bar, uint64_t at) { d.bar_write(bar, at, data); });
}

std::shared_ptr<BusDevice> PciBus::window_device(std::shared_ptr<PciBus> bus, BarKind space) {
  return std::make_shared<WindowDevice>(std::move(bus), space);
}

}  // namespace kiln::pci
