// Single instructions the probe needs in ring 3, as inline asm so that each access is exactly
// one plain instruction (a VMM or KVM's emulator sees a simple MOV/IN/OUT, never a string or
// SSE access).
#pragma once

#include <cstdint>

namespace kiln::probe {

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};

[[nodiscard]] inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

// RDTSC after LFENCE, so that earlier instructions (the exits being timed) have completed.
[[nodiscard]] inline uint64_t rdtsc_ordered() {
  uint32_t lo, hi;
  asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return (uint64_t{hi} << 32) | lo;
}

[[nodiscard]] inline uint16_t read_cs() {
  uint16_t cs;
  asm volatile("mov %%cs, %0" : "=r"(cs));
  return cs;
}

[[nodiscard]] inline uint16_t read_ss() {
  uint16_t ss;
  asm volatile("mov %%ss, %0" : "=r"(ss));
  return ss;
}

[[nodiscard]] inline uint64_t read_rflags() {
  uint64_t rflags;
  asm volatile("pushfq; pop %0" : "=r"(rflags) : : "memory");
  return rflags;
}

inline constexpr uint64_t kRflagsIf = 1u << 9;
inline constexpr unsigned kRflagsIoplShift = 12;

// CLI/STI are allowed in ring 3 because IOPL = 3.
inline void interrupts_on() { asm volatile("sti" : : : "memory"); }
inline void interrupts_off() { asm volatile("cli" : : : "memory"); }
inline void cpu_relax() { asm volatile("pause" : : : "memory"); }

inline void mmio_write32(uint64_t address, uint32_t value) {
  asm volatile("movl %0, (%1)" : : "r"(value), "r"(address) : "memory");
}

[[nodiscard]] inline uint32_t mmio_read32(uint64_t address) {
  uint32_t value;
  asm volatile("movl (%1), %0" : "=r"(value) : "r"(address) : "memory");
  return value;
}

[[nodiscard]] inline uint8_t mmio_read8(uint64_t address) {
  uint8_t value;
  asm volatile("movb (%1), %0" : "=q"(value) : "r"(address) : "memory");
  return value;
}

inline void mmio_write8(uint64_t address, uint8_t value) {
  asm volatile("movb %0, (%1)" : : "q"(value), "r"(address) : "memory");
}

[[nodiscard]] inline uint16_t mmio_read16(uint64_t address) {
  uint16_t value;
  asm volatile("movw (%1), %0" : "=r"(value) : "r"(address) : "memory");
  return value;
}

inline void mmio_write16(uint64_t address, uint16_t value) {
  asm volatile("movw %0, (%1)" : : "r"(value), "r"(address) : "memory");
}

// a * b / c without overflow as long as b * c < 2^64 (true for the probe's unit conversions:
// b <= 10^9 and c a frequency below ~1.8 * 10^10 Hz). c must not be 0.
[[nodiscard]] inline uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c) {
  return (a / c) * b + (a % c) * b / c;
}

}  // namespace kiln::probe
