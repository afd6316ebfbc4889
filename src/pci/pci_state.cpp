// PciBus snapshot state: a format word, then per slot a presence byte and, for a present function,
// its 256 bytes of configuration space (PCI Local Bus 3.0, 6.1).
#include "pci/pci_bus.h"

#include <mutex>

namespace kiln::pci {
namespace {
constexpr uint32_t kFormat = 1;
}  // namespace

void PciBus::save_state(snapshot::Encoder& out) const {
  std::shared_lock lock(mu_);
  out.u32(kFormat);
  for (const Slot& slot : slots_) {
    out.boolean(slot.device != nullptr);
    if (slot.device != nullptr) out.bytes(slot.device->config().bytes());
  }
}

Status PciBus::restore_state(snapshot::Decoder& in) {
  std::unique_lock lock(mu_);
  auto format = KILN_TRY_VALUE(in.u32());
  if (format != kFormat) return in.invalid(fmt::format("PCI state format {} (kiln reads {})", format, kFormat));
  std::array<std::span<const uint8_t>, kSlots> saved;
  for (uint32_t i = 0; i < kSlots; ++i) {
    auto present = KILN_TRY_VALUE(in.boolean());
    if (present != (slots_[i].device != nullptr)) {
      return in.invalid(fmt::format("PCI slot {} is {} in the snapshot and {} here", i, present ? "used" : "empty",
                                    present ? "empty" : "used"));
    }
    if (!present) continue;
    auto bytes = KILN_TRY_VALUE(in.bytes(kConfigSize));
    // Checked against a copy first, so that nothing changes unless every slot fits.
    ConfigSpace copy = slots_[i].device->config();
    if (auto ok = copy.restore(bytes); !ok) return in.invalid(fmt::format("PCI 00:{:02x}.0: {}", i, ok.error().message));
    saved[i] = bytes;
  }
  for (uint32_t i = 0; i < kSlots; ++i) {
    if (slots_[i].device == nullptr) continue;
    change_config_locked(slots_[i], [&](ConfigSpace& config) { (void)config.restore(saved[i]); });
    slots_[i].device->config_restored();
  }
  return {};
}

}  // namespace kiln::pci
