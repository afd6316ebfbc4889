// The device-side split queue and chain walker (src/virtio/queue) against the driver-side library
// (drivers/virtio): well-formed traffic through SplitRing, malformed rings through RawRing.
#include <gtest/gtest.h>

#include <array>

#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/split_ring.h"
#include "memory/guest_memory.h"
#include "virtio/queue/chain_io.h"
#include "virtio/queue/split_queue.h"
#include "virtio/spec.h"

namespace kiln::virtio {
namespace {

constexpr uint64_t kRam = 1 * MiB;
constexpr GuestAddress kArena{0x10000};
constexpr uint64_t kArenaSize = 0x80000;

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const MemoryRange range{GuestAddress(0), kRam};
    auto m = GuestMemory::create(std::span(&range, 1));
    ASSERT_TRUE(m.has_value());
    mem_ = std::make_unique<GuestMemory>(std::move(*m));
    arena_ = driver::Arena(driver::window_of(*mem_, kArena, kArenaSize));
  }

  // A driver ring and the device queue over the same memory.
  void make_queue(uint16_t size, uint64_t features, driver::RingOptions opts = {}) {
    auto ring = driver::SplitRing::create(arena_, size, 4096, opts);
    ASSERT_TRUE(ring.ok());
    ring_ = ring.value();
    const auto& l = ring_.layout();
    auto layout = legacy_layout(size, l.desc / 4096, 4096, 4096);
    ASSERT_TRUE(layout.has_value()) << layout.error().message;
    EXPECT_EQ(layout->avail.raw(), l.avail);
    EXPECT_EQ(layout->used.raw(), l.used);
    auto q = SplitQueue::create(*mem_, *layout, features);
    ASSERT_TRUE(q.has_value()) << q.error().message;
    queue_.emplace(std::move(*q));
  }

  driver::DmaBuffer buffer(uint64_t size) {
    auto b = arena_.allocate(size, 16);
    EXPECT_TRUE(b.ok());
    return b.value();
  }

  // Writes a descriptor straight into the table (for malformed chains).
  void raw_desc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    ring_.raw().write_desc(index, driver::Descriptor{addr, len, flags, next});
  }
  void raw_publish(uint16_t head) { ring_.raw().push_avail(head); }

  std::unique_ptr<GuestMemory> mem_;
  driver::Arena arena_;
  driver::SplitRing ring_;
  std::optional<SplitQueue> queue_;
};

TEST_F(QueueTest, ReadableThenWritableSegmentsRoundTrip) {
  make_queue(8, 0);
  auto out = buffer(16);
  auto in = buffer(32);
  std::memcpy(out.host, "request-header!", 16);
  const driver::Segment segs[] = {{out.phys, 16}, {in.phys, 32}};
  ASSERT_TRUE(ring_.add(segs, 1, 1, 77).ok());

  auto popped = queue_->pop();
  ASSERT_TRUE(popped.has_value());
  ASSERT_TRUE(popped->has_value());
  const DescriptorChain& chain = **popped;
  ASSERT_EQ(chain.readable().size(), 1u);
  ASSERT_EQ(chain.writable().size(), 1u);
  EXPECT_EQ(chain.readable_bytes(), 16u);
  EXPECT_EQ(chain.writable_bytes(), 32u);

  ChainReader reader(*mem_, chain);
  std::array<uint8_t, 16> header{};
  ASSERT_TRUE(reader.read(header).has_value());
  EXPECT_EQ(std::memcmp(header.data(), "request-header!", 16), 0);
  ChainWriter writer(*mem_, chain);
  ASSERT_TRUE(writer.write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("reply"), 5)).has_value());
  ASSERT_TRUE(queue_->push_used(chain.head(), 5).has_value());
  EXPECT_TRUE(queue_->needs_interrupt());

  driver::Completion c;
  ASSERT_EQ(ring_.poll(c), driver::Poll::done);
  EXPECT_EQ(c.token, 77u);
  EXPECT_EQ(c.len, 5u);
  EXPECT_EQ(std::memcmp(in.host, "reply", 5), 0);
  auto none = queue_->pop();
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST_F(QueueTest, HeaderSplitAcrossSegmentsReadsAsOne) {
  make_queue(8, 0);
  auto a = buffer(3);
  auto b = buffer(5);
  std::memcpy(a.host, "abc", 3);
  std::memcpy(b.host, "defgh", 5);
  const driver::Segment segs[] = {{a.phys, 3}, {b.phys, 5}};
  ASSERT_TRUE(ring_.add(segs, 2, 0, 1).ok());
  auto popped = queue_->pop();
  ASSERT_TRUE(popped && *popped);
  ChainReader reader(*mem_, **popped);
  auto v = reader.read_obj<std::array<char, 8>>();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(std::string(v->data(), 8), "abcdefgh");
  EXPECT_FALSE(reader.read_obj<uint8_t>().has_value()) << "reading past the chain must fail";
}

TEST_F(QueueTest, IndirectTableWhenNegotiated) {
  driver::RingOptions opts;
  opts.indirect_max = 4;
  make_queue(8, feature(kFRingIndirectDesc), opts);
  ring_.set_indirect_policy(driver::IndirectPolicy::always);
  auto a = buffer(8);
  auto b = buffer(8);
  const driver::Segment segs[] = {{a.phys, 8}, {b.phys, 8}};
  ASSERT_TRUE(ring_.add(segs, 1, 1, 5).ok());
  auto popped = queue_->pop();
  ASSERT_TRUE(popped && *popped) << (popped ? "" : popped.error().message);
  EXPECT_EQ((*popped)->readable().size(), 1u);
  EXPECT_EQ((*popped)->writable().size(), 1u);
  EXPECT_EQ((*popped)->writable()[0].addr.raw(), b.phys);
}

TEST_F(QueueTest, IndirectWithoutTheFeatureIsReturnedEmpty) {
  driver::RingOptions opts;
  opts.indirect_max = 4;
  make_queue(8, 0, opts);
  ring_.set_indirect_policy(driver::IndirectPolicy::always);
  auto a = buffer(8);
  const driver::Segment segs[] = {{a.phys, 8}};
  ASSERT_TRUE(ring_.add(segs, 0, 1, 9).ok());
  auto popped = queue_->pop();
  ASSERT_FALSE(popped.has_value());
  EXPECT_NE(popped.error().message.find("INDIRECT"), std::string::npos) << popped.error().message;
  driver::Completion c;
  ASSERT_EQ(ring_.poll(c), driver::Poll::done);
  EXPECT_EQ(c.token, 9u);
  EXPECT_EQ(c.len, 0u) << "a rejected chain comes back with nothing written";
}

struct Malformed {
  const char* name;
  const char* error_part;
  void (*build)(QueueTest& t, uint64_t ok_buf);
};

class MalformedChainTest : public QueueTest, public ::testing::WithParamInterface<Malformed> {
 public:
  using QueueTest::raw_desc;
  using QueueTest::raw_publish;
  using QueueTest::mem_;
};

TEST_P(MalformedChainTest, IsRejectedAndReturnedAndTheQueueGoesOn) {
  make_queue(8, feature(kFRingIndirectDesc));
  auto ok_buf = buffer(64);
  GetParam().build(*this, ok_buf.phys);
  auto popped = queue_->pop();
  ASSERT_FALSE(popped.has_value()) << "malformed chain accepted";
  EXPECT_NE(popped.error().message.find(GetParam().error_part), std::string::npos) << popped.error().message;
  EXPECT_EQ(popped.error().kind, ErrorKind::kGuest) << "the driver's mistake, not kiln's";
  // The queue still serves a good chain afterwards.
  raw_desc(5, ok_buf.phys, 64, 0, 0);
  raw_publish(5);
  auto good = queue_->pop();
  ASSERT_TRUE(good.has_value()) << good.error().message;
  ASSERT_TRUE(good->has_value());
  EXPECT_EQ((*good)->head(), 5);
}

// Guest RAM is [0, 1 MiB); 0xd0000000 is a device window, not RAM.
INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedChainTest,
    ::testing::Values(
        Malformed{"outside_ram", "not inside guest RAM",
                  [](QueueTest& fixture, uint64_t) {
                    static_cast<MalformedChainTest&>(fixture).raw_desc(0, 0xd0000000, 64, 0, 0);
                    static_cast<MalformedChainTest&>(fixture).raw_publish(0);
                  }},
        Malformed{"straddles_ram_end", "not inside guest RAM",
                  [](QueueTest& fixture, uint64_t) {
                    static_cast<MalformedChainTest&>(fixture).raw_desc(0, kRam - 16, 64, 0, 0);
                    static_cast<MalformedChainTest&>(fixture).raw_publish(0);
                  }},
        Malformed{"length_wraps", "not inside guest RAM",
                  [](QueueTest& fixture, uint64_t) {
                    static_cast<MalformedChainTest&>(fixture).raw_desc(0, 0xfffffffffffff000ull, 0x2000, 0, 0);
                    static_cast<MalformedChainTest&>(fixture).raw_publish(0);
                  }},
        Malformed{"next_out_of_range", "next index",
                  [](QueueTest& fixture, uint64_t buf) {
                    static_cast<MalformedChainTest&>(fixture).raw_desc(0, buf, 8, kDescFNext, 200);
                    static_cast<MalformedChainTest&>(fixture).raw_publish(0);
                  }},
        Malformed{"loop", "loops",
                  [](QueueTest& fixture, uint64_t buf) {
                    auto& m = static_cast<MalformedChainTest&>(fixture);
                    m.raw_desc(0, buf, 8, kDescFNext, 1);
                    m.raw_desc(1, buf, 8, kDescFNext, 0);
                    m.raw_publish(0);
                  }},
        Malformed{"head_out_of_range", "head index",
                  [](QueueTest& fixture, uint64_t) { static_cast<MalformedChainTest&>(fixture).raw_publish(9); }},
        Malformed{"write_before_read", "follows a device-writable",
                  [](QueueTest& fixture, uint64_t buf) {
                    auto& m = static_cast<MalformedChainTest&>(fixture);
                    m.raw_desc(0, buf, 8, kDescFNext | kDescFWrite, 1);
                    m.raw_desc(1, buf + 8, 8, 0, 0);
                    m.raw_publish(0);
                  }},
        Malformed{"nested_indirect", "nested indirect",
                  [](QueueTest& fixture, uint64_t buf) {
                    auto& m = static_cast<MalformedChainTest&>(fixture);
                    // An indirect table (at buf) whose entry is itself indirect.
                    Descriptor inner{buf, 16, kDescFIndirect, 0};
                    ASSERT_TRUE(m.mem_->write_obj(GuestAddress(buf), inner).has_value());
                    m.raw_desc(0, buf, 16, kDescFIndirect, 0);
                    m.raw_publish(0);
                  }},
        Malformed{"indirect_loop", "loops",
                  [](QueueTest& fixture, uint64_t buf) {
                    auto& m = static_cast<MalformedChainTest&>(fixture);
                    Descriptor a{buf + 32, 8, kDescFNext, 1};
                    Descriptor b{buf + 40, 8, kDescFNext, 0};
                    ASSERT_TRUE(m.mem_->write_obj(GuestAddress(buf), a).has_value());
                    ASSERT_TRUE(m.mem_->write_obj(GuestAddress(buf + 16), b).has_value());
                    m.raw_desc(0, buf, 32, kDescFIndirect, 0);
                    m.raw_publish(0);
                  }},
        Malformed{"indirect_bad_length", "indirect table length",
                  [](QueueTest& fixture, uint64_t buf) {
                    static_cast<MalformedChainTest&>(fixture).raw_desc(0, buf, 24, kDescFIndirect, 0);
                    static_cast<MalformedChainTest&>(fixture).raw_publish(0);
                  }}),
    [](const auto& case_info) { return std::string(case_info.param.name); });

TEST_F(QueueTest, RunawayAvailableIndexStopsTheQueueUntilReset) {
  make_queue(8, 0);
  ring_.raw().publish_avail_idx(100);  // 100 entries "available" in a queue of 8
  auto popped = queue_->pop();
  ASSERT_FALSE(popped.has_value());
  EXPECT_NE(popped.error().message.find("ahead"), std::string::npos) << popped.error().message;
  EXPECT_EQ(popped.error().kind, ErrorKind::kGuest);
  EXPECT_TRUE(queue_->broken());
  auto again = queue_->pop();
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->has_value()) << "a broken queue yields nothing more";
  EXPECT_FALSE(queue_->enable_notification());
}

TEST_F(QueueTest, EventIdxInterruptsOnlyWhenUsedEventIsCrossed) {
  driver::RingOptions opts;
  opts.event_idx = true;
  make_queue(8, feature(kFRingEventIdx), opts);
  auto b = buffer(64);
  const driver::Segment seg{b.phys, 8};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ring_.add(&seg, 0, 1, i).ok());
  ring_.raw().set_used_event(2);  // "interrupt me once used idx passes 2"
  for (int i = 0; i < 2; ++i) {
    auto c = queue_->pop();
    ASSERT_TRUE(c && *c);
    ASSERT_TRUE(queue_->push_used((*c)->head(), 0).has_value());
  }
  EXPECT_FALSE(queue_->needs_interrupt()) << "used idx 2 has not passed used_event 2";
  auto c = queue_->pop();
  ASSERT_TRUE(c && *c);
  ASSERT_TRUE(queue_->push_used((*c)->head(), 0).has_value());
  EXPECT_TRUE(queue_->needs_interrupt());
  EXPECT_FALSE(queue_->needs_interrupt()) << "nothing new since the last decision";
  // enable_notification publishes avail_event = next avail and reports the one still pending.
  EXPECT_TRUE(queue_->enable_notification());
  EXPECT_EQ(ring_.raw().avail_event(), 3);
}

TEST_F(QueueTest, NoInterruptFlagWithoutEventIdx) {
  make_queue(8, 0);
  auto b = buffer(64);
  const driver::Segment seg{b.phys, 8};
  ASSERT_TRUE(ring_.add(&seg, 0, 1, 0).ok());
  ring_.disable_interrupts();
  auto c = queue_->pop();
  ASSERT_TRUE(c && *c);
  ASSERT_TRUE(queue_->push_used((*c)->head(), 0).has_value());
  EXPECT_FALSE(queue_->needs_interrupt());
  queue_->disable_notification();
  EXPECT_EQ(ring_.raw().used_flags() & kUsedFNoNotify, kUsedFNoNotify);
  EXPECT_FALSE(queue_->enable_notification());
  EXPECT_EQ(ring_.raw().used_flags() & kUsedFNoNotify, 0);
}

TEST(QueueLayoutTest, RejectsBadSizesAndOverflow) {
  EXPECT_FALSE(legacy_layout(0, 1, 4096, 4096).has_value());
  EXPECT_FALSE(legacy_layout(6, 1, 4096, 4096).has_value());
  EXPECT_FALSE(legacy_layout(256, 1, 4095, 4096).has_value());
  EXPECT_FALSE(legacy_layout(256, 1, 4096, 3).has_value());
  EXPECT_FALSE(legacy_layout(256, 0xffffffffffffull, 0x100000, 4096).has_value());
  auto l = legacy_layout(256, 0x10, 4096, 4096);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->desc.raw(), 0x10000u);
  EXPECT_EQ(l->avail.raw(), 0x11000u);
  EXPECT_EQ(l->used.raw(), 0x12000u);
}

TEST_F(QueueTest, RingsOutsideRamAreRefused) {
  auto l = legacy_layout(256, 0xd0000, 4096, 4096);  // 0xd0000000: not RAM
  ASSERT_TRUE(l.has_value());
  EXPECT_FALSE(SplitQueue::create(*mem_, *l, 0).has_value());
  auto edge = legacy_layout(256, (kRam / 4096) - 1, 4096, 4096);  // starts in RAM, runs past it
  ASSERT_TRUE(edge.has_value());
  EXPECT_FALSE(SplitQueue::create(*mem_, *edge, 0).has_value());
}

}  // namespace
}  // namespace kiln::virtio
