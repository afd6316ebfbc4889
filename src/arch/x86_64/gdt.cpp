#include "arch/x86_64/gdt.h"

#include "arch/x86_64/layout.h"

namespace kiln::x86 {

namespace {
// Access bytes: present, DPL 0; S=1 code (execute/read, accessed) or data
// (read/write, accessed); S=0 type 0xb = busy 32/64-bit TSS.
constexpr uint8_t kAccessCode = 0x9b;
constexpr uint8_t kAccessData = 0x93;
constexpr uint8_t kAccessTss = 0x8b;
// Flags: G (4 KiB granularity) = 8, D/B (32-bit) = 4, L (64-bit code) = 2.
constexpr uint8_t kFlags32 = 0xc;
constexpr uint8_t kFlags64 = 0xa;
constexpr uint32_t kTssLimit = 0x67;
}  // namespace

std::array<uint64_t, kGdtEntries> boot_gdt() {
  return {
      0,
      gdt_entry(0, 0xfffff, kAccessCode, kFlags32),
      gdt_entry(0, 0xfffff, kAccessCode, kFlags64),
      gdt_entry(0, 0xfffff, kAccessData, kFlags32),
      gdt_entry(0, kTssLimit, kAccessTss, 0),
      0,  // upper half of the 16-byte TSS descriptor: base bits 63..32 = 0
  };
}

kvm_segment segment_from_gdt(const std::array<uint64_t, kGdtEntries>& gdt, uint16_t selector) {
  const uint64_t d = gdt.at(selector >> 3);
  kvm_segment seg{};
  seg.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
  const uint32_t limit = static_cast<uint32_t>((d & 0xffff) | (((d >> 48) & 0xf) << 16));
  seg.selector = selector;
  seg.type = static_cast<uint8_t>((d >> 40) & 0xf);
  seg.s = static_cast<uint8_t>((d >> 44) & 1);
  seg.dpl = static_cast<uint8_t>((d >> 45) & 3);
  seg.present = static_cast<uint8_t>((d >> 47) & 1);
  seg.avl = static_cast<uint8_t>((d >> 52) & 1);
  seg.l = static_cast<uint8_t>((d >> 53) & 1);
  seg.db = static_cast<uint8_t>((d >> 54) & 1);
  seg.g = static_cast<uint8_t>((d >> 55) & 1);
  seg.limit = seg.g ? (limit << 12) | 0xfff : limit;
  seg.unusable = seg.present ? 0 : 1;
  return seg;
}

Status write_gdt(const GuestMemory& mem) {
  auto st = mem.write_obj(kGdtAddr, boot_gdt());
  if (!st) return wrap("writing the GDT", st.error());
  return {};
}

}  // namespace kiln::x86
