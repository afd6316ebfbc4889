// The driver library (drivers/virtio) against kiln's own device side: rings it builds in a kiln
// GuestMemory popped by kiln's SplitQueue, malformed rings built with RawRing refused by it,
// and a whole legacy virtio-mmio bring-up of kiln's virtio-rng through MmioTransport.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/mmio.h"
#include "virtio/queue/split_queue.h"
#include "virtio/rng/rng.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "virtio_test_queue.h"

namespace kiln::driver {
namespace {

constexpr uint64_t kRam = 1 << 20;
constexpr uint64_t kWindowStart = 0x10000;
constexpr uint64_t kWindowSize = 0x80000;

GuestMemory make_memory() {
  const MemoryRange range{GuestAddress(0), kRam};
  auto mem = GuestMemory::create(std::span(&range, 1));
  EXPECT_TRUE(mem);
  return std::move(*mem);
}

class VirtioDriverKiln : public ::testing::Test {
 protected:
  // A driver ring plus kiln's device view of the same memory.
  void make_rings(uint16_t size, uint64_t features) {
    auto r = SplitRing::create(arena, size, 4096, ring_options(features, 8));
    ASSERT_TRUE(r) << error_name(r.error());
    ring = r.value();
    auto layout = virtio::legacy_layout(size, ring.layout().desc / 4096, 4096, 4096);
    ASSERT_TRUE(layout);
    auto q = virtio::SplitQueue::create(mem, *layout, features);
    ASSERT_TRUE(q) << q.error().message;
    device.emplace(std::move(*q));
  }

  GuestMemory mem = make_memory();
  Arena arena{window_of(mem, GuestAddress(kWindowStart), kWindowSize)};
  SplitRing ring;
  std::optional<virtio::SplitQueue> device;
};

TEST_F(VirtioDriverKiln, WindowTranslatesGuestAddresses) {
  const PhysWindow w = arena.window();
  ASSERT_NE(w.host(), nullptr);
  EXPECT_EQ(w.phys(), kWindowStart);
  w.host()[5] = 0x42;
  EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(kWindowStart + 5)), 0x42);
  EXPECT_EQ(window_of(mem, GuestAddress(kRam - 16), 32).host(), nullptr);
}

TEST_F(VirtioDriverKiln, DirectAndIndirectChainsPopAsBuilt) {
  make_rings(16, bit(kFeatureIndirectDesc) | bit(kFeatureEventIdx));
  const Segment segs[] = {{0x90000, 16}, {0x91000, 4096}, {0x92000, 1}};
  auto indirect = ring.add(segs, 1, 2, 10);
  ring.set_indirect_policy(IndirectPolicy::never);
  auto direct = ring.add(segs, 2, 1, 20);
  ASSERT_TRUE(indirect && direct);
  for (const bool first : {true, false}) {
    auto chain = device->pop();
    ASSERT_TRUE(chain) << chain.error().message;
    ASSERT_TRUE(chain->has_value());
    const virtio::DescriptorChain& c = **chain;
    EXPECT_EQ(c.head(), first ? indirect.value() : direct.value());
    ASSERT_EQ(c.readable().size(), first ? 1u : 2u);
    ASSERT_EQ(c.writable().size(), first ? 2u : 1u);
    EXPECT_EQ(c.readable()[0].addr.raw(), 0x90000u);
    EXPECT_EQ(c.writable().back().addr.raw(), 0x92000u);
    ASSERT_TRUE(device->push_used(c.head(), first ? 4097 : 1));
  }
  auto none = device->pop();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  Completion done;
  ASSERT_EQ(ring.poll(done), Poll::done);
  EXPECT_EQ(done.token, 10u);
  EXPECT_EQ(done.len, 4097u);
  ASSERT_EQ(ring.poll(done), Poll::done);
  EXPECT_EQ(done.token, 20u);
}

TEST_F(VirtioDriverKiln, EventIdxAgreesWithTheDeviceSide) {
  make_rings(8, bit(kFeatureEventIdx));
  const Segment one[] = {{0x90000, 8}};
  // The device asks for no notifications (avail_event left behind), the driver for no interrupts.
  device->disable_notification();
  ring.disable_interrupts();
  ASSERT_TRUE(ring.add(one, 0, 1, 0));
  EXPECT_TRUE(ring.kick_prepare());  // avail_event 0 still names entry 0
  auto chain = device->pop();
  ASSERT_TRUE(chain && chain->has_value());
  ASSERT_TRUE(ring.add(one, 0, 1, 1));
  EXPECT_FALSE(ring.kick_prepare());  // entry 1 is past what the device asked for
  ASSERT_TRUE(device->push_used((*chain)->head(), 8));
  EXPECT_FALSE(device->needs_interrupt());
  // Interrupts back on: the device must interrupt for the next used entry.
  EXPECT_TRUE(ring.enable_interrupts());  // one entry is already waiting
  Completion c;
  ASSERT_EQ(ring.poll(c), Poll::done);
  EXPECT_FALSE(ring.enable_interrupts());
  auto second = device->pop();
  ASSERT_TRUE(second && second->has_value());
  ASSERT_TRUE(device->push_used((*second)->head(), 8));
  EXPECT_TRUE(device->needs_interrupt());
}

TEST_F(VirtioDriverKiln, MalformedRingsAreRefused) {
  make_rings(8, bit(kFeatureIndirectDesc));
  RawRing& raw = ring.raw();
  // A descriptor loop: 0 -> 1 -> 0.
  raw.write_desc(0, Descriptor{0x90000, 8, kDescNext, 1});
  raw.write_desc(1, Descriptor{0x90000, 8, kDescNext, 0});
  raw.push_avail(0);
  EXPECT_FALSE(device->pop());
  // A segment beyond guest RAM.
  raw.write_desc(2, Descriptor{kRam - 4, 8, 0, 0});
  raw.push_avail(2);
  EXPECT_FALSE(device->pop());
  // A nested indirect table.
  const uint64_t table = kWindowStart + 0x40000;
  ASSERT_TRUE(raw.write_desc_at(table, 0, Descriptor{table + 0x100, 16, kDescIndirect, 0}));
  raw.write_desc(3, Descriptor{table, 16, kDescIndirect, 0});
  raw.push_avail(3);
  EXPECT_FALSE(device->pop());
  // Each refused chain came back used with length 0.
  EXPECT_EQ(raw.used_idx(), 3);
  for (uint16_t i = 0; i < 3; ++i) EXPECT_EQ(raw.used_entry(i).len, 0u);
  // A runaway avail idx stops the queue.
  raw.publish_avail_idx(static_cast<uint16_t>(raw.avail_idx() + 100));
  EXPECT_FALSE(device->pop());
  EXPECT_TRUE(device->broken());
}

class CountingTrigger final : public IrqTrigger {
 public:
  void trigger() override { ++count; }
  std::atomic<int> count{0};
};

TEST_F(VirtioDriverKiln, RngThroughTheMmioTransport) {
  auto rng = std::make_shared<virtio::Rng>();
  auto irq = std::make_shared<CountingTrigger>();
  auto transport = virtio::MmioTransport::create(mem, rng, irq);
  ASSERT_TRUE(transport);
  LegacyMmio<BusRegisters> t(BusRegisters{transport->get()});
  MmioIdentity id;
  ASSERT_EQ(t.identify(id), Error::none);
  EXPECT_EQ(id.device_id, kDeviceRng);

  auto accepted = negotiate(t, bit(kFeatureEventIdx) | bit(kFeatureIndirectDesc));
  ASSERT_TRUE(accepted);
  auto q = setup_queue(t, arena, 0, 16, ring_options(accepted.value(), 4));
  ASSERT_TRUE(q) << error_name(q.error());
  EXPECT_EQ(t.queue_pfn(0), q->ring().layout().desc / 4096);
  ASSERT_EQ(driver_ok(t), Error::none);

  auto buf = arena.allocate(64, 64);
  ASSERT_TRUE(buf);
  const Segment seg{buf->phys, 64};
  ASSERT_TRUE(q->add(&seg, 0, 1, 1));
  q->kick();
  Completion c;
  Poll p = Poll::empty;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((p = q->poll(c)) == Poll::empty && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(p, Poll::done);
  EXPECT_EQ(c.len, 64u);
  // The device publishes the used element before it raises the interrupt
  // (virtio 0.9.5 2.4.2), so the driver may see the buffer first.
  EXPECT_TRUE(virtio::test::eventually_within([&] { return irq->count.load() >= 1; },
                                              std::chrono::seconds(5)));
  EXPECT_EQ(t.interrupt_status() & kInterruptUsedRing, kInterruptUsedRing);
  t.ack_interrupt(kInterruptUsedRing);
  EXPECT_EQ(t.interrupt_status(), 0u);

  t.reset();
  EXPECT_EQ(t.status(), 0);
  EXPECT_EQ(t.queue_pfn(0), 0u);
  (*transport)->shutdown();
}

}  // namespace
}  // namespace kiln::driver
