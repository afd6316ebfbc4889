// Sample snapshot state for the snapshot unit tests: every field distinctive and valid.
#pragma once

#include <cstring>
#include <vector>

#include "snapshot/vcpu_state.h"
#include "snapshot/vm_state.h"

namespace kiln::snapshot::test {

inline kvm_cpuid_entry2 cpuid_entry(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx,
                                    uint32_t edx, bool indexed = false) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
  e.eax = eax;
  e.ebx = ebx;
  e.ecx = ecx;
  e.edx = edx;
  return e;
}

// "GenuineIntel" in leaf 0.
inline kvm_cpuid_entry2 intel_leaf0() { return cpuid_entry(0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69); }

inline VcpuState sample_vcpu_state() {
  VcpuState s;
  s.cpuid = {intel_leaf0(), cpuid_entry(1, 0, 0x50657, 0x800, 0x80000001, 0x178bfbff),
             cpuid_entry(7, 0, 0, 0x20, 0, 0, true)};
  s.tsc_khz = 2'100'000;
  s.mp_state.mp_state = KVM_MP_STATE_HALTED;
  s.regs.rax = 0x1111;
  s.regs.rip = 0xffffffff81000000;
  s.regs.rflags = 0x246;
  s.sregs.cr0 = 0x80050033;
  s.sregs.cr4 = 0x3606f0;
  s.sregs.efer = 0xd01;
  s.sregs.apic_base = 0xfee00900;
  s.fpu.fcw = 0x37f;
  s.fpu.mxcsr = 0x1f80;
  s.xsave.assign(4096 + 64, 0);
  for (size_t i = 0; i < s.xsave.size(); i += 7) s.xsave[i] = static_cast<uint8_t>(i);
  s.xcrs.nr_xcrs = 1;
  s.xcrs.xcrs[0].value = 7;
  s.debugregs.db[0] = 0x1234;
  s.debugregs.dr6 = 0xffff0ff0;
  s.debugregs.dr7 = 0x400;
  for (size_t i = 0; i < sizeof(s.lapic.regs); ++i) s.lapic.regs[i] = static_cast<char>(i * 3);
  s.msrs = {{0x10, 0, 123456789}, {0xc0000082, 0, 0xffffffff81a00000}, {0x4b564d01, 0, 0x3000001}};
  s.events.nmi.masked = 1;
  s.events.sipi_vector = 0x9a;
  s.events.flags = KVM_VCPUEVENT_VALID_SHADOW;
  return s;
}

inline VmState sample_vm_state() {
  VmState s;
  s.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
  s.pic_master.chip.pic.imr = 0xfb;
  s.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
  s.pic_slave.chip.pic.irq_base = 0x28;
  s.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
  s.ioapic.chip.ioapic.base_address = 0xfec00000;
  s.ioapic.chip.ioapic.redirtbl[2].bits = 0x10030;
  s.pit.channels[0].count = 0x10000;
  s.pit.channels[0].mode = 2;
  s.pit.channels[1].mode = 0xff;  // never programmed
  s.pit.channels[0].rw_mode = 3;
  s.pit.flags = KVM_PIT_FLAGS_HPET_LEGACY;
  s.clock.clock = 987654321;
  s.clock.flags = KVM_CLOCK_TSC_STABLE;
  return s;
}

template <typename T>
bool same_bytes(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

}  // namespace kiln::snapshot::test
