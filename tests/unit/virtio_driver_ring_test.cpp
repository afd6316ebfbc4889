// The driver library's split ring (drivers/virtio) on a tiny in-test memory, with the test
// playing the device through RawRing: layout, chains, indirect tables, the free list, the
// notification decision and interrupt suppression (virtio 0.9.5, 2.3 and 2.4).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>

#include "drivers/virtio/split_ring.h"

namespace kiln::driver {
namespace {

// 256 KiB of "guest RAM" at guest physical 0x40000.
struct TestMemory {
  static constexpr uint64_t kPhys = 0x40000;
  static constexpr uint64_t kSize = 256 * 1024;
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> bytes{static_cast<uint8_t*>(std::aligned_alloc(4096, kSize))};
  PhysWindow window() const { return PhysWindow(kPhys, bytes.get(), kSize); }
};

TEST(VirtioDriverLayout, LegacyLayoutMatchesTheSpec) {
  // 2.3: desc 16*n, avail 2*(3+n), used at the next `align` boundary, 6 + 8*n.
  const RingLayout l = legacy_ring_layout(0x10000, 256, 4096);
  EXPECT_EQ(l.desc, 0x10000u);
  EXPECT_EQ(l.avail, 0x10000u + 4096);
  EXPECT_EQ(l.used, 0x10000u + 8192);  // 4096 + 518 rounded up to 4096
  EXPECT_EQ(l.bytes, 8192u + 6 + 2048);
  const RingLayout small = legacy_ring_layout(0, 4, 16);
  EXPECT_EQ(small.avail, 64u);
  EXPECT_EQ(small.used, 80u);  // 64 + 14 = 78, aligned to 16
}

TEST(VirtioDriverLayout, NeedEvent) {
  EXPECT_TRUE(need_event(0, 1, 0));    // moved past 0
  EXPECT_FALSE(need_event(1, 1, 0));   // not yet at event + 1
  EXPECT_TRUE(need_event(5, 10, 3));   // crossed 5 while moving 3 -> 10
  EXPECT_FALSE(need_event(2, 10, 3));  // 2 was before the old index
  EXPECT_TRUE(need_event(0xffff, 1, 0xfffe));  // wraps
}

TEST(VirtioDriverArena, AlignsZeroesAndRunsOut) {
  TestMemory m;
  std::memset(m.bytes.get(), 0xaa, TestMemory::kSize);
  Arena a(m.window());
  auto first = a.allocate(10, 8);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->phys, TestMemory::kPhys);
  auto page = a.allocate(100, 4096);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->phys, TestMemory::kPhys + 4096);
  EXPECT_EQ(page->host, m.bytes.get() + 4096);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(page->host[i], 0);
  EXPECT_EQ(a.allocate(1, 3).error(), Error::bad_argument);
  EXPECT_EQ(a.allocate(TestMemory::kSize, 1).error(), Error::out_of_memory);
  EXPECT_EQ(m.window().to_host(TestMemory::kPhys + TestMemory::kSize - 4, 8), nullptr);
  EXPECT_EQ(m.window().to_phys(page->host), page->phys);
}

class VirtioDriverRing : public ::testing::Test {
 protected:
  SplitRing make(uint16_t size, RingOptions opts = {}) {
    auto r = SplitRing::create(arena, size, 4096, opts);
    EXPECT_TRUE(r) << error_name(r.error());
    return r.value();
  }
  // The device's side: returns `head` with `len` bytes written.
  static void device_use(SplitRing& r, uint16_t head, uint32_t len) {
    RawRing& raw = r.raw();
    const uint16_t idx = raw.used_idx();
    raw.set_used_entry(idx, UsedElement{head, len});
    raw.publish_used_idx(static_cast<uint16_t>(idx + 1));
  }

  TestMemory mem;
  Arena arena{mem.window()};
};

TEST_F(VirtioDriverRing, DirectChainReadableThenWritable) {
  SplitRing r = make(8);
  EXPECT_EQ(r.layout().desc % 4096, 0u);
  const Segment segs[] = {{0x50000, 16}, {0x51000, 512}, {0x52000, 1}};
  auto head = r.add(segs, 1, 2, 77);
  ASSERT_TRUE(head);
  RawRing& raw = r.raw();
  EXPECT_EQ(raw.avail_idx(), 1);
  EXPECT_EQ(raw.avail_entry(0), head.value());
  Descriptor d = raw.read_desc(head.value());
  EXPECT_EQ(d.addr, 0x50000u);
  EXPECT_EQ(d.len, 16u);
  EXPECT_EQ(d.flags, kDescNext);
  d = raw.read_desc(d.next);
  EXPECT_EQ(d.addr, 0x51000u);
  EXPECT_EQ(d.flags, kDescNext | kDescWrite);
  d = raw.read_desc(d.next);
  EXPECT_EQ(d.addr, 0x52000u);
  EXPECT_EQ(d.flags, kDescWrite);
  EXPECT_EQ(r.free_count(), 5);

  Completion c;
  EXPECT_EQ(r.poll(c), Poll::empty);
  device_use(r, head.value(), 513);
  ASSERT_EQ(r.poll(c), Poll::done);
  EXPECT_EQ(c.token, 77u);
  EXPECT_EQ(c.len, 513u);
  EXPECT_EQ(c.writable, 513u);
  EXPECT_EQ(r.free_count(), 8);
  EXPECT_EQ(r.in_flight(), 0);
}

TEST_F(VirtioDriverRing, IndirectTableTakesOneDescriptor) {
  SplitRing r = make(4, RingOptions{false, 8});
  const Segment segs[] = {{0x50000, 16}, {0x51000, 4096}, {0x52000, 1}};
  auto head = r.add(segs, 2, 1, 1);
  ASSERT_TRUE(head);
  EXPECT_EQ(r.free_count(), 3);
  const Descriptor d = r.raw().read_desc(head.value());
  EXPECT_EQ(d.flags, kDescIndirect);
  EXPECT_EQ(d.len, 3u * 16);
  const uint8_t* table = mem.window().to_host(d.addr, d.len);
  ASSERT_NE(table, nullptr);
  Descriptor t[3];
  std::memcpy(t, table, sizeof(t));
  EXPECT_EQ(t[0].flags, kDescNext);
  EXPECT_EQ(t[0].next, 1);
  EXPECT_EQ(t[1].flags, kDescNext);
  EXPECT_EQ(t[1].len, 4096u);
  EXPECT_EQ(t[2].flags, kDescWrite);
  EXPECT_EQ(t[2].addr, 0x52000u);

  r.set_indirect_policy(IndirectPolicy::never);
  auto direct = r.add(segs, 2, 1, 2);
  ASSERT_TRUE(direct);
  EXPECT_EQ(r.raw().read_desc(direct.value()).flags, kDescNext);
  EXPECT_EQ(r.free_count(), 0);
  const Segment one[] = {{0x53000, 8}};
  EXPECT_EQ(r.add(one, 1, 0, 3).error(), Error::no_space);
}

TEST_F(VirtioDriverRing, FreeListSurvivesOutOfOrderCompletion) {
  SplitRing r = make(8);
  const Segment two[] = {{0x50000, 8}, {0x50100, 8}};
  uint16_t heads[4];
  for (uint16_t i = 0; i < 4; ++i) {
    auto h = r.add(two, 1, 1, i);
    ASSERT_TRUE(h);
    heads[i] = h.value();
  }
  EXPECT_EQ(r.add(two, 1, 1, 9).error(), Error::no_space);
  for (const uint16_t i : {2, 0, 3, 1}) device_use(r, heads[i], 8);
  Completion c;
  for (const uint64_t want : {2u, 0u, 3u, 1u}) {
    ASSERT_EQ(r.poll(c), Poll::done);
    EXPECT_EQ(c.token, want);
  }
  EXPECT_EQ(r.free_count(), 8);
  // Many rounds through the recycled descriptors, past the 16-bit index wrap.
  for (uint32_t round = 0; round < 70000; ++round) {
    auto h = r.add(two, 1, 1, round);
    ASSERT_TRUE(h);
    device_use(r, h.value(), 0);
    ASSERT_EQ(r.poll(c), Poll::done);
    ASSERT_EQ(c.token, round);
  }
  EXPECT_EQ(r.free_count(), 8);
}

TEST_F(VirtioDriverRing, BadUsedIdsAreReportedAndSkipped) {
  SplitRing r = make(8);
  const Segment one[] = {{0x50000, 8}};
  auto h = r.add(one, 0, 1, 5);
  ASSERT_TRUE(h);
  device_use(r, 100, 0);                                    // beyond the ring
  device_use(r, static_cast<uint16_t>(h.value() + 1), 0);  // not a head in flight
  device_use(r, h.value(), 8);
  Completion c;
  EXPECT_EQ(r.poll(c), Poll::bad_id);
  EXPECT_EQ(c.head, 100);
  EXPECT_EQ(r.poll(c), Poll::bad_id);
  ASSERT_EQ(r.poll(c), Poll::done);
  EXPECT_EQ(c.token, 5u);
  EXPECT_EQ(r.poll(c), Poll::empty);
}

TEST_F(VirtioDriverRing, KickHonoursNoNotifyWithoutEventIdx) {
  SplitRing r = make(8);
  const Segment one[] = {{0x50000, 8}};
  EXPECT_FALSE(r.kick_prepare());  // nothing new
  ASSERT_TRUE(r.add(one, 1, 0, 0));
  EXPECT_TRUE(r.kick_prepare());
  r.raw().set_used_flags(kUsedNoNotify);
  ASSERT_TRUE(r.add(one, 1, 0, 1));
  EXPECT_FALSE(r.kick_prepare());
}

TEST_F(VirtioDriverRing, KickFollowsAvailEvent) {
  SplitRing r = make(8, RingOptions{true, 0});
  const Segment one[] = {{0x50000, 8}};
  r.raw().set_avail_event(0);  // the device wants to hear about entry 0
  ASSERT_TRUE(r.add(one, 1, 0, 0));
  EXPECT_TRUE(r.kick_prepare());
  // The device now asks for entry 3: adding entries 1 and 2 needs no kick, entry 3 does.
  r.raw().set_avail_event(3);
  ASSERT_TRUE(r.add(one, 1, 0, 1));
  ASSERT_TRUE(r.add(one, 1, 0, 2));
  EXPECT_FALSE(r.kick_prepare());
  ASSERT_TRUE(r.add(one, 1, 0, 3));
  EXPECT_TRUE(r.kick_prepare());
}

TEST_F(VirtioDriverRing, InterruptSuppression) {
  SplitRing plain = make(8);
  plain.disable_interrupts();
  EXPECT_EQ(plain.raw().avail_flags(), kAvailNoInterrupt);
  EXPECT_FALSE(plain.enable_interrupts());
  EXPECT_EQ(plain.raw().avail_flags(), 0);

  SplitRing evented = make(8, RingOptions{true, 0});
  evented.disable_interrupts();
  EXPECT_EQ(evented.raw().used_event(), 0x8000);
  const Segment one[] = {{0x50000, 8}};
  auto h = evented.add(one, 0, 1, 0);
  ASSERT_TRUE(h);
  device_use(evented, h.value(), 8);
  EXPECT_TRUE(evented.enable_interrupts());  // a used entry is already waiting
  EXPECT_EQ(evented.raw().used_event(), 0);
}

TEST_F(VirtioDriverRing, RawRingBuildsMalformedRings) {
  SplitRing r = make(4);
  RawRing& raw = r.raw();
  // A loop: 0 -> 1 -> 0, published twice, and an avail idx far ahead.
  raw.write_desc(0, Descriptor{0x50000, 8, kDescNext, 1});
  raw.write_desc(1, Descriptor{0x50000, 8, kDescNext, 0});
  raw.write_desc(5, Descriptor{0xdead0000, 1, 0, 0});  // index taken modulo the size: entry 1
  EXPECT_EQ(raw.read_desc(1).addr, 0xdead0000u);
  raw.push_avail(0);
  raw.push_avail(0);
  EXPECT_EQ(raw.avail_idx(), 2);
  raw.publish_avail_idx(1000);
  EXPECT_EQ(raw.avail_idx(), 1000);
  // A nested indirect table inside the window; one past its end is refused.
  EXPECT_TRUE(raw.write_desc_at(TestMemory::kPhys + 0x8000, 0, Descriptor{TestMemory::kPhys + 0x9000, 16, kDescIndirect, 0}));
  EXPECT_FALSE(raw.write_desc_at(TestMemory::kPhys + TestMemory::kSize - 16, 1, Descriptor{}));
}

TEST_F(VirtioDriverRing, CreateRejectsBadSizes) {
  EXPECT_EQ(SplitRing::create(arena, 6, 4096, {}).error(), Error::bad_argument);
  EXPECT_EQ(SplitRing::create(arena, 8, 100, {}).error(), Error::bad_argument);
  EXPECT_EQ(SplitRing::create(arena, 32768, 4096, {}).error(), Error::out_of_memory);  // 512 KiB > 256 KiB
}

}  // namespace
}  // namespace kiln::driver
