// ram_ranges() and the e820 map, computed without allocating guest RAM.
#include <gtest/gtest.h>

#include "arch/x86_64/e820.h"
#include "arch/x86_64/layout.h"

namespace kiln::x86 {
namespace {

TEST(ArchLayout, RamRangesBelowTheHole) {
  const auto r = ram_ranges(128 * MiB);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].start.raw(), 0u);
  EXPECT_EQ(r[0].size, 128 * MiB);

  const auto exact = ram_ranges(3 * GiB);
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_EQ(exact[0].size, 3 * GiB);
}

TEST(ArchLayout, RamRangesSplitAroundTheHole) {
  const auto r = ram_ranges(5 * GiB);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].start.raw(), 0u);
  EXPECT_EQ(r[0].size, kMmioHoleStart);
  EXPECT_EQ(r[1].start.raw(), kMmioHoleEnd);
  EXPECT_EQ(r[1].size, 2 * GiB);
  EXPECT_EQ(low_ram_end(r).raw(), 3 * GiB);
}

TEST(ArchLayout, BootStructuresDoNotOverlap) {
  // Each boot structure sits below the next one and below the EBDA.
  EXPECT_LT(kGdtAddr.raw() + 6 * 8, kPvhStartInfoAddr.raw());
  EXPECT_LE(kPvhMemmapAddr.raw() + kPvhMemmapMaxEntries * 24, kZeroPageAddr.raw());
  EXPECT_LE(kZeroPageAddr.raw() + 4096, kBootStackPointer.raw());
  EXPECT_LT(kBootStackPointer.raw(), kPml4Addr.raw());
  EXPECT_LE(kPdAddr.raw() + 4 * 4096, kCmdlineAddr.raw());
  EXPECT_LE(kCmdlineAddr.raw() + kCmdlineMaxBytes, kEbdaStart.raw());
}

TEST(ArchE820, SmallRam) {
  auto map = e820_map(ram_ranges(128 * MiB));
  ASSERT_TRUE(map) << map.error().message;
  const std::vector<E820Entry> want{
      {0, 0x9fc00, E820Type::kRam},
      {0x9fc00, 0x100000 - 0x9fc00, E820Type::kReserved},
      {0x100000, 127 * MiB, E820Type::kRam},
  };
  EXPECT_EQ(*map, want);
}

TEST(ArchE820, LargeRamContinuesAbove4G) {
  auto map = e820_map(ram_ranges(5 * GiB));
  ASSERT_TRUE(map) << map.error().message;
  ASSERT_EQ(map->size(), 4u);
  EXPECT_EQ((*map)[2], (E820Entry{1 * MiB, 3 * GiB - 1 * MiB, E820Type::kRam}));
  EXPECT_EQ((*map)[3], (E820Entry{4 * GiB, 2 * GiB, E820Type::kRam}));
  // Nothing in the map touches the MMIO hole.
  for (const auto& e : *map) {
    EXPECT_TRUE(e.addr + e.size <= kMmioHoleStart || e.addr >= kMmioHoleEnd);
  }
}

TEST(ArchE820, RejectsLayoutsWithoutLowRam) {
  const std::vector<MemoryRange> high_only{{GuestAddress(4 * GiB), 1 * GiB}};
  EXPECT_FALSE(e820_map(high_only));
  const std::vector<MemoryRange> tiny{{GuestAddress(0), 1 * MiB}};
  EXPECT_FALSE(e820_map(tiny));
  EXPECT_FALSE(e820_map(std::vector<MemoryRange>{}));
}

}  // namespace
}  // namespace kiln::x86
