#include "arch/x86_64/layout.h"

#include <algorithm>

namespace kiln::x86 {

std::vector<MemoryRange> ram_ranges(uint64_t ram_bytes) {
  std::vector<MemoryRange> ranges;
  const uint64_t low = std::min(ram_bytes, kMmioHoleStart);
  if (low > 0) ranges.push_back(MemoryRange{GuestAddress(0), low});
  if (ram_bytes > low) ranges.push_back(MemoryRange{GuestAddress(kMmioHoleEnd), ram_bytes - low});
  return ranges;
}

GuestAddress low_ram_end(std::span<const MemoryRange> ram) {
  if (ram.empty() || ram.front().start.raw() != 0) return GuestAddress(0);
  return GuestAddress(ram.front().size);
}

GuestAddress low_ram_end(const GuestMemory& mem) { return low_ram_end(ram_ranges_of(mem)); }

std::vector<MemoryRange> ram_ranges_of(const GuestMemory& mem) {
  std::vector<MemoryRange> ranges;
  for (const auto& r : mem.regions()) ranges.push_back(MemoryRange{r.start, r.size});
  return ranges;
}

}  // namespace kiln::x86
