#include "vmm/virtio_state.h"

#include <fmt/format.h>

namespace kiln {
namespace {

constexpr uint32_t kVersion = 2;

std::string place(uint64_t base, uint32_t gsi) { return fmt::format("{:#x} (GSI {})", base, gsi); }

}  // namespace

std::string virtio_device_name(const std::string& kind, const std::string& id) {
  return id.empty() ? fmt::format("virtio-{}", kind) : fmt::format("virtio-{} {}", kind, id);
}

ManagedDevice managed_virtio_device(const VirtioSlot& slot) {
  ManagedDevice m;
  m.name = virtio_device_name(slot.kind, slot.id);
  m.version = kVersion;
  auto t = slot.transport;
  const uint64_t base = slot.base.raw();
  const uint32_t gsi = slot.gsi;
  m.pause = [t] { return t->pause(); };
  m.resume = [t] { t->resume(); };
  m.save = [t, base, gsi](snapshot::Encoder& out) -> Status {
    out.u64(base);
    out.u32(gsi);
    return t->save_state(out);
  };
  m.restore = [t, base, gsi](snapshot::Decoder& in) -> Status {
    auto saved_base = KILN_TRY_VALUE(in.u64());
    auto saved_gsi = KILN_TRY_VALUE(in.u32());
    if (saved_base != base || saved_gsi != gsi) {
      return fail("the snapshot has it at {}, this VM at {}", place(saved_base, saved_gsi), place(base, gsi));
    }
    // On PCI the INTx line and MSI-X routes come back with configuration space (the "pci-bus"
    // device, restored after every function: PciLegacyTransport::config_restored()).
    return t->restore_state(in);
  };
  m.reset = [t] { t->reset(); };
  return m;
}

}  // namespace kiln
