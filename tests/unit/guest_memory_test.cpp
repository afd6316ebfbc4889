#include "memory/guest_memory.h"

#include <gtest/gtest.h>

#include <array>

namespace kiln {
namespace {

GuestMemory two_regions() {
  const std::array ranges{MemoryRange{GuestAddress(0), 64 * KiB},
                          MemoryRange{GuestAddress(1 * MiB), 64 * KiB}};
  auto mem = GuestMemory::create(ranges);
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

TEST(GuestMemory, RejectsBadLayouts) {
  const std::array unaligned{MemoryRange{GuestAddress(100), 4 * KiB}};
  EXPECT_FALSE(GuestMemory::create(unaligned));
  const std::array empty{MemoryRange{GuestAddress(0), 0}};
  EXPECT_FALSE(GuestMemory::create(empty));
  const std::array overlap{MemoryRange{GuestAddress(0), 8 * KiB}, MemoryRange{GuestAddress(4 * KiB), 4 * KiB}};
  EXPECT_FALSE(GuestMemory::create(overlap));
}

TEST(GuestMemory, ReadWriteRoundTrip) {
  auto mem = two_regions();
  ASSERT_TRUE(mem.write_obj<uint64_t>(GuestAddress(8), 0x1122334455667788));
  auto v = mem.read_obj<uint64_t>(GuestAddress(8));
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 0x1122334455667788u);
  EXPECT_EQ(mem.total_size(), 128 * KiB);
  EXPECT_EQ(mem.end().raw(), 1 * MiB + 64 * KiB);
}

TEST(GuestMemory, Edges) {
  auto mem = two_regions();
  EXPECT_TRUE(mem.slice(GuestAddress(0), 0));                   // zero length inside RAM
  EXPECT_TRUE(mem.slice(GuestAddress(64 * KiB - 1), 1));        // last byte
  EXPECT_FALSE(mem.slice(GuestAddress(64 * KiB - 1), 2));       // one past the end
  EXPECT_FALSE(mem.slice(GuestAddress(64 * KiB), 0));           // zero length just past the end
  EXPECT_FALSE(mem.slice(GuestAddress(64 * KiB - 8), 16));      // straddles into the gap
  EXPECT_FALSE(mem.slice(GuestAddress(512 * KiB), 1));          // in the gap
  EXPECT_TRUE(mem.slice(GuestAddress(1 * MiB), 64 * KiB));      // whole second region
  EXPECT_FALSE(mem.slice(GuestAddress(1 * MiB - 1), 2));        // starts in the gap
  EXPECT_FALSE(mem.slice(GuestAddress(8), UINT64_MAX));         // length wraps
  EXPECT_FALSE(mem.slice(GuestAddress(UINT64_MAX), 2));         // address wraps
  EXPECT_FALSE(mem.slice(GuestAddress(UINT64_MAX), 0));
  EXPECT_FALSE(mem.read_obj<uint32_t>(GuestAddress(64 * KiB - 2)));
  EXPECT_FALSE(mem.fill(GuestAddress(1 * MiB + 60 * KiB), 8 * KiB, 0));
  EXPECT_TRUE(mem.fill(GuestAddress(1 * MiB + 60 * KiB), 4 * KiB, 0xaa));
}

TEST(GuestMemory, AnAddressOutsideRamIsTheGuests) {
  auto mem = two_regions();
  auto s = mem.slice(GuestAddress(512 * KiB), 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::kGuest) << s.error().message;
  auto r = mem.read_obj<uint32_t>(GuestAddress(64 * KiB - 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kGuest);
}

}  // namespace
}  // namespace kiln
