#include "snapshot/vm_state.h"

#include <fmt/format.h>

#include "snapshot/codec.h"

namespace kiln::snapshot {
namespace {

// The IOAPIC's MMIO window (KVM's IOAPIC_DEFAULT_BASE_ADDRESS): KVM decodes guest accesses
// against the saved base, so a changed base would move the IOAPIC.
constexpr uint64_t kIoapicBase = 0xfec00000;
constexpr uint32_t kClockFlags = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
constexpr uint32_t kPitFlags = KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON;

Status check_chip(Decoder& d, const kvm_irqchip& chip, uint32_t want) {
  if (chip.chip_id != want) return d.invalid(fmt::format("irqchip {} where chip {} belongs", chip.chip_id, want));
  if (want == KVM_IRQCHIP_IOAPIC && chip.chip.ioapic.base_address != kIoapicBase) {
    return d.invalid(fmt::format("IOAPIC at {:#x}, not {:#x}", chip.chip.ioapic.base_address, kIoapicBase));
  }
  return {};
}

// kvm/api.txt 4.53; the i8254's modes are 0-5 (6 and 7 alias 2 and 3), counts 16 bits (0 = 65536).
// KVM marks a channel never programmed with mode 0xff (kvm_pit_reset in arch/x86/kvm/i8254.c).
constexpr uint8_t kPitModeUnprogrammed = 0xff;
Status check_pit(Decoder& d, const kvm_pit_state2& pit) {
  if ((pit.flags & ~kPitFlags) != 0) return d.invalid(fmt::format("PIT flags {:#x} unknown", pit.flags));
  for (int i = 0; i < 3; ++i) {
    const auto& c = pit.channels[i];
    const struct {
      const char* name;
      uint32_t value;
      uint32_t max;
    } fields[] = {{"count", c.count, 0x10000},         {"mode", c.mode == kPitModeUnprogrammed ? 0u : c.mode, 7},
                  {"bcd", c.bcd, 1},                   {"gate", c.gate, 1},
                  {"rw_mode", c.rw_mode, 3},           {"read_state", c.read_state, 4},
                  {"write_state", c.write_state, 4},   {"status_latched", c.status_latched, 1},
                  {"count_latched", c.count_latched, 4}};
    for (const auto& f : fields) {
      if (f.value > f.max) return d.invalid(fmt::format("PIT channel {} {} is {}, at most {}", i, f.name, f.value, f.max));
    }
  }
  return {};
}

}  // namespace

Result<VmState> save_vm(const VmFd& vm) {
  VmState s;
  auto master = KILN_TRY_VALUE(vm.get_irqchip(VmFd::kPicMaster));
  auto slave = KILN_TRY_VALUE(vm.get_irqchip(VmFd::kPicSlave));
  auto ioapic = KILN_TRY_VALUE(vm.get_irqchip(VmFd::kIoapic));
  auto pit = KILN_TRY_VALUE(vm.get_pit2());
  auto clock = KILN_TRY_VALUE(vm.get_clock());
  s.pic_master = master;
  s.pic_slave = slave;
  s.ioapic = ioapic;
  s.pit = pit;
  s.clock = clock;
  return s;
}

Status restore_vm(VmFd& vm, const VmState& s) {
  // Only the clock value: KVM_SET_CLOCK before Linux 5.16 refuses any flag, and REALTIME would
  // advance the clock by the wall time since the snapshot.
  kvm_clock_data clock{};
  clock.clock = s.clock.clock;
  KILN_TRY(vm.set_clock(clock));
  KILN_TRY(vm.set_irqchip(s.pic_master));
  KILN_TRY(vm.set_irqchip(s.pic_slave));
  KILN_TRY(vm.set_irqchip(s.ioapic));
  return vm.set_pit2(s.pit);
}

std::vector<uint8_t> encode_vm_state(const VmState& s) {
  Encoder e;
  e.pod(s.pic_master);
  e.pod(s.pic_slave);
  e.pod(s.ioapic);
  e.pod(s.pit);
  e.pod(s.clock);
  return e.take();
}

Result<VmState> decode_vm_state(std::span<const uint8_t> bytes) {
  Decoder d(bytes, "VM state");
  VmState s;
  KILN_TRY(d.pod(s.pic_master));
  KILN_TRY(check_chip(d, s.pic_master, KVM_IRQCHIP_PIC_MASTER));
  KILN_TRY(d.pod(s.pic_slave));
  KILN_TRY(check_chip(d, s.pic_slave, KVM_IRQCHIP_PIC_SLAVE));
  KILN_TRY(d.pod(s.ioapic));
  KILN_TRY(check_chip(d, s.ioapic, KVM_IRQCHIP_IOAPIC));
  KILN_TRY(d.pod(s.pit));
  KILN_TRY(check_pit(d, s.pit));
  KILN_TRY(d.pod(s.clock));
  if ((s.clock.flags & ~kClockFlags) != 0) return d.invalid(fmt::format("clock flags {:#x} unknown", s.clock.flags));
  KILN_TRY(d.finish());
  return s;
}

}  // namespace kiln::snapshot
