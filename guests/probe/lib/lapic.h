// The local APIC in xAPIC mode at its default base (SDM Vol. 3A "Advanced Programmable Interrupt
// Controller"), reached by MMIO from ring 3 through the user-mapped, uncached hole.
#pragma once

#include <cstdint>

#include "probe/lib/cpu.h"
#include "probe/start/ring0_layout.h"

namespace kiln::probe {

inline constexpr uint64_t kLapicBase = 0xfee00000;
inline constexpr uint64_t kLapicTpr = kLapicBase + 0x80;
inline constexpr uint64_t kLapicSvr = kLapicBase + 0xf0;
inline constexpr uint64_t kLapicIcrLow = kLapicBase + 0x300;
inline constexpr uint32_t kSvrSoftwareEnable = 1u << 8;
inline constexpr uint32_t kIcrSelf = 1u << 18;  // destination shorthand 01: self; fixed, edge

// Software-enables the LAPIC (spurious vector PROBE_SPURIOUS_VECTOR) and accepts all priorities.
inline void lapic_enable() {
  mmio_write32(kLapicTpr, 0);
  mmio_write32(kLapicSvr, kSvrSoftwareEnable | PROBE_SPURIOUS_VECTOR);
}

// Sends a fixed interrupt with `vector` to this CPU through the ICR.
inline void lapic_self_ipi(uint8_t vector) { mmio_write32(kLapicIcrLow, kIcrSelf | vector); }

// Masks every input of both 8259 PICs (OCW1), so nothing arrives through LINT0 (ExtINT).
inline void mask_8259_pics() {
  asm volatile("outb %0, $0x21; outb %0, $0xa1" : : "a"(uint8_t{0xff}) : "memory");
}

}  // namespace kiln::probe
