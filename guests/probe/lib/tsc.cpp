#include "probe/lib/tsc.h"

#include "probe/lib/cpu.h"
#include "runtime/io.h"

namespace kiln::probe {
namespace {

using guest::inb;
using guest::outb;

// Intel 8254 (PIT) on the PC: 1.193182 MHz input clock, channel 0 data port 0x40, mode/command
// port 0x43.
constexpr uint64_t kPitHz = 1193182;
constexpr uint16_t kPitChannel0 = 0x40;
constexpr uint16_t kPitCommand = 0x43;
constexpr uint8_t kChannel0Mode0LoHi = 0x30;  // channel 0, lobyte/hibyte, mode 0, binary
constexpr uint8_t kChannel0Latch = 0x00;      // counter latch command for channel 0
constexpr uint32_t kTicks = 30000;            // ~25 ms, below one 16-bit period (~55 ms)
constexpr uint32_t kReadsWithoutProgress = 1000;
constexpr uint32_t kMaxReads = 10000000;

uint16_t read_channel0() {
  outb(kPitCommand, kChannel0Latch);
  const uint8_t lo = inb(kPitChannel0);
  const uint8_t hi = inb(kPitChannel0);
  return static_cast<uint16_t>(lo | (hi << 8));
}

bool hypervisor_leaf(uint64_t& hz) {
  if ((cpuid(1).ecx & (1u << 31)) == 0) return false;  // no hypervisor present bit
  if (cpuid(0x40000000).eax < 0x40000010) return false;
  const uint32_t khz = cpuid(0x40000010).eax;
  hz = uint64_t{khz} * 1000;
  return khz != 0;
}

bool crystal_leaf(uint64_t& hz) {
  if (cpuid(0).eax < 0x15) return false;
  const CpuidResult r = cpuid(0x15);  // EAX denominator, EBX numerator, ECX crystal Hz
  if (r.eax == 0 || r.ebx == 0 || r.ecx == 0) return false;
  hz = uint64_t{r.ecx} * r.ebx / r.eax;
  return true;
}

bool base_frequency_leaf(uint64_t& hz) {
  if (cpuid(0).eax < 0x16) return false;
  const uint32_t mhz = cpuid(0x16).eax & 0xffff;
  hz = uint64_t{mhz} * 1000000;
  return mhz != 0;
}

}  // namespace

bool measure_tsc_with_pit(uint64_t& hz) {
  // Mode 0 counts down from the loaded value and keeps counting (wrapping) after zero; its
  // output rises once, at zero (~55 ms after loading, after the measurement): that one IRQ0
  // stays pending while IF = 0, and selftest masks the PICs before it enables interrupts.
  outb(kPitCommand, kChannel0Mode0LoHi);
  outb(kPitChannel0, 0xff);
  outb(kPitChannel0, 0xff);
  // The count loads on the next PIT clock: start timing at the first change seen.
  const uint16_t first = read_channel0();
  uint16_t previous = first;
  for (uint32_t reads = 0; previous == first && reads < kReadsWithoutProgress; ++reads) previous = read_channel0();
  if (previous == first) return false;  // not counting: no PIT
  const uint64_t start = rdtsc_ordered();
  uint64_t elapsed = 0;
  uint64_t end = start;
  bool ok = false;
  for (uint32_t reads = 1; reads <= kMaxReads; ++reads) {
    const uint16_t now = read_channel0();
    end = rdtsc_ordered();
    elapsed += static_cast<uint16_t>(previous - now);  // modulo 2^16: the counter counts down
    previous = now;
    if (elapsed >= kTicks) {
      ok = true;
      break;
    }
    if (elapsed == 0 && reads >= kReadsWithoutProgress) break;  // stopped counting
  }
  if (!ok || end <= start) return false;
  hz = mul_div(end - start, kPitHz, elapsed);
  return true;
}

TscFrequency tsc_frequency(bool force_pit) {
  TscFrequency f;
  uint64_t hz = 0;
  if (!force_pit && hypervisor_leaf(hz)) {
    f = {hz, "cpuid-0x40000010"};
  } else if (!force_pit && crystal_leaf(hz)) {
    f = {hz, "cpuid-0x15"};
  } else if (measure_tsc_with_pit(hz)) {
    f = {hz, "pit"};
  } else if (!force_pit && base_frequency_leaf(hz)) {
    f = {hz, "cpuid-0x16"};
  }
  return f;
}

}  // namespace kiln::probe
