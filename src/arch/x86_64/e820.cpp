#include "arch/x86_64/e820.h"

#include "arch/x86_64/layout.h"

namespace kiln::x86 {

Result<std::vector<E820Entry>> e820_map(std::span<const MemoryRange> ram) {
  if (ram.empty() || ram.front().start.raw() != 0 || ram.front().size <= kHighMemStart.raw()) {
    return fail("guest RAM must start at 0 and reach past 1 MiB for the x86 boot layout");
  }
  const uint64_t low_end = ram.front().size;
  std::vector<E820Entry> map{
      {0, kEbdaStart.raw(), E820Type::kRam},
      {kEbdaStart.raw(), kHighMemStart.raw() - kEbdaStart.raw(), E820Type::kReserved},
      {kHighMemStart.raw(), low_end - kHighMemStart.raw(), E820Type::kRam},
  };
  for (const auto& r : ram.subspan(1)) {
    if (r.start.raw() < low_end) return fail("guest RAM range {:#x} overlaps low RAM", r.start.raw());
    map.push_back({r.start.raw(), r.size, E820Type::kRam});
  }
  return map;
}

Result<std::vector<E820Entry>> e820_map(const GuestMemory& mem) { return e820_map(ram_ranges_of(mem)); }

}  // namespace kiln::x86
