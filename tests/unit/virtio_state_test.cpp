// Snapshot state of virtio queues and devices behind the virtio-mmio transport, driven by kiln's
// driver library (drivers/virtio): the VMM's part is played by the test (pause, save, guest RAM
// copied out, the old device gone, RAM put back, a fresh device and transport restored, resume),
// and the driver carries on with the same queues as if nothing happened. virtio-blk's state and
// the refusal of every malformed field: virtio_blk_state_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/mmio.h"
#include "virtio/console/console.h"
#include "virtio/rng/rng.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "virtio_state_test_util.h"

namespace kiln::virtio::test {
namespace {

using namespace std::chrono_literals;

GuestMemory copy_of(const GuestMemory& from) {
  GuestMemory to = make_ram();
  std::vector<uint8_t> bytes(kRamSize);
  EXPECT_TRUE(from.read(GuestAddress(0), bytes));
  EXPECT_TRUE(to.write(GuestAddress(0), bytes));
  return to;
}

Status restore_queue(SplitQueue& q, const std::vector<uint8_t>& state) {
  snapshot::Decoder d(state, "queue state");
  KILN_TRY(q.restore_state(d));
  return d.finish();
}

TEST(VirtioQueueState, PositionContinuesInACopyOfGuestMemory) {
  GuestMemory a = make_ram();
  DriverQueue driver(a, kRxBase, 16);
  const uint64_t features = feature(kFRingEventIdx);
  auto q = SplitQueue::create(a, driver.layout(), features);
  ASSERT_TRUE(q);
  for (int i = 0; i < 3; ++i) driver.add({{kData, 16, true}});
  for (int i = 0; i < 3; ++i) {
    auto chain = q->pop();
    ASSERT_TRUE(chain && *chain);
    ASSERT_TRUE(q->push_used((*chain)->head(), 16));
  }
  const uint16_t fourth = driver.add({{kData, 8, true}});  // available, not taken yet
  snapshot::Encoder e;
  q->save_state(e);

  GuestMemory b = copy_of(a);
  auto restored = SplitQueue::create(b, driver.layout(), features);
  ASSERT_TRUE(restored);
  ASSERT_TRUE(restore_queue(*restored, e.data()));
  EXPECT_EQ(restored->next_avail(), 3);
  EXPECT_EQ(restored->next_used(), 3);
  auto chain = restored->pop();
  ASSERT_TRUE(chain && *chain);
  EXPECT_EQ((*chain)->head(), fourth);
  ASSERT_TRUE(restored->push_used(fourth, 8));
  EXPECT_EQ(b.read_obj<uint16_t>(driver.layout().used.unchecked_add(2)).value(), 4);
  EXPECT_EQ(driver.used_idx(), 3);  // the original memory is untouched

  // Memory from another moment (the used index moved on) is refused; the queue is unchanged.
  GuestMemory c = copy_of(b);
  auto other = SplitQueue::create(c, driver.layout(), features);
  ASSERT_TRUE(other);
  auto ok = restore_queue(*other, e.data());
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("used index 3 saved, guest memory holds 4"), std::string::npos) << ok.error().message;
  EXPECT_EQ(other->next_avail(), 0);
}

TEST(VirtioQueueState, BrokenQueueStaysBroken) {
  GuestMemory a = make_ram();
  DriverQueue driver(a, kRxBase, 16);
  auto q = SplitQueue::create(a, driver.layout(), 0);
  ASSERT_TRUE(q);
  ASSERT_TRUE(a.write_obj(driver.layout().avail.unchecked_add(2), uint16_t{100}));  // runaway index
  EXPECT_FALSE(q->pop());
  ASSERT_TRUE(q->broken());
  snapshot::Encoder e;
  q->save_state(e);
  auto restored = SplitQueue::create(a, driver.layout(), 0);
  ASSERT_TRUE(restored);
  ASSERT_TRUE(restore_queue(*restored, e.data()));
  EXPECT_TRUE(restored->broken());
  auto none = restored->pop();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(VirtioState, RngContinuesOnTheSameQueueAfterRestore) {
  Session s;
  s.attach(std::make_shared<Rng>());
  auto accepted = drv::negotiate(s.t, drv::bit(drv::kFeatureEventIdx) | drv::bit(drv::kFeatureIndirectDesc));
  ASSERT_TRUE(accepted.ok());
  auto q = drv::setup_queue(s.t, s.arena, 0, 16, drv::ring_options(*accepted, 4));
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(drv::driver_ok(s.t), drv::Error::none);
  auto buf = s.arena.allocate(4 * 64, 64);
  ASSERT_TRUE(buf.ok());
  const drv::Segment first{buf->phys, 64};
  ASSERT_TRUE(q->add(&first, 0, 1, 1).ok());
  q->kick();
  drv::Completion c;
  ASSERT_EQ(wait(*q, c), drv::Poll::done);
  EXPECT_EQ(c.token, 1u);

  // A request made while the VM is paused waits, and is in the snapshot's RAM only.
  ASSERT_TRUE(s.transport->pause());
  const drv::Segment second{buf->phys + 64, 64};
  ASSERT_TRUE(q->add(&second, 0, 1, 2).ok());
  (void)q->kick();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(q->poll(c), drv::Poll::empty);
  const Snapshot snap = s.take();

  s.replace([] { return std::make_shared<Rng>(); }, snap);
  ASSERT_TRUE(s.restore(snap.state));
  EXPECT_EQ(s.t.status(), drv::kStatusAcknowledge | drv::kStatusDriver | drv::kStatusDriverOk);
  EXPECT_EQ(s.t.queue_pfn(0), q->ring().layout().desc / 4096);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(q->poll(c), drv::Poll::empty);  // restored paused: nothing runs before resume()
  s.transport->resume();
  ASSERT_EQ(wait(*q, c), drv::Poll::done);
  EXPECT_EQ(c.token, 2u);
  EXPECT_EQ(c.len, 64u);
  // EVENT_IDX: the driver asks to be interrupted for the next used entry (used_event), and the
  // restored device does so on the new transport's line.
  EXPECT_FALSE(q->ring().enable_interrupts());
  const int before = s.irq->count.load();
  const drv::Segment third{buf->phys + 128, 64};
  ASSERT_TRUE(q->add(&third, 0, 1, 3).ok());
  q->kick();
  ASSERT_EQ(wait(*q, c), drv::Poll::done);
  EXPECT_EQ(c.token, 3u);
  EXPECT_TRUE(eventually_within([&] { return s.irq->count.load() > before; }, 5s));
  EXPECT_EQ(s.t.interrupt_status() & drv::kInterruptUsedRing, drv::kInterruptUsedRing);
}

TEST(VirtioState, ConsoleKeepsInputAndSizeAcrossRestore) {
  RecordingOutput before;
  RecordingOutput after;
  Session s;
  s.attach(std::make_shared<ConsoleDevice>(before.callback(), WindowSize{132, 43}));
  auto accepted = drv::negotiate(s.t, drv::bit(drv::console::kFeatureSize) | drv::bit(drv::kFeatureEventIdx));
  ASSERT_TRUE(accepted.ok());
  auto rx = drv::setup_queue(s.t, s.arena, 0, 16, drv::ring_options(*accepted, 0));
  auto tx = drv::setup_queue(s.t, s.arena, 1, 16, drv::ring_options(*accepted, 0));
  ASSERT_TRUE(rx.ok() && tx.ok());
  ASSERT_EQ(drv::driver_ok(s.t), drv::Error::none);
  ASSERT_EQ(s.t.interrupt_status() & drv::kInterruptConfig, drv::kInterruptConfig);  // the initial size
  s.t.ack_interrupt(drv::kInterruptConfig);
  auto buf = s.arena.allocate(4096, 64);
  ASSERT_TRUE(buf.ok());
  std::memcpy(buf->host, "before", 6);
  const drv::Segment out1{buf->phys, 6};
  ASSERT_TRUE(tx->add(&out1, 1, 0, 1).ok());
  tx->kick();
  drv::Completion c;
  ASSERT_EQ(wait(*tx, c), drv::Poll::done);
  ASSERT_TRUE(eventually_within([&] { return before.size() == 6; }, 5s));

  ASSERT_TRUE(s.transport->pause());
  auto& console = static_cast<ConsoleDevice&>(*s.device);
  EXPECT_EQ(console.enqueue_input(bytes_of("typed while paused")), 18u);
  const drv::Segment in{buf->phys + 1024, 64};
  ASSERT_TRUE(rx->add(&in, 0, 1, 7).ok());
  (void)rx->kick();
  const Snapshot snap = s.take();

  s.replace([&] { return std::make_shared<ConsoleDevice>(after.callback(), WindowSize{80, 25}); }, snap);
  ASSERT_TRUE(s.restore(snap.state));
  EXPECT_EQ(s.t.config16(0), 132);  // what the guest read before, not this host's 80x25
  EXPECT_EQ(s.t.config16(2), 43);
  s.transport->resume();
  ASSERT_EQ(wait(*rx, c), drv::Poll::done);
  EXPECT_EQ(c.token, 7u);
  ASSERT_EQ(c.len, 18u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf->host + 1024), 18), "typed while paused");
  std::memcpy(buf->host + 2048, "after", 5);
  const drv::Segment out2{buf->phys + 2048, 5};
  ASSERT_TRUE(tx->add(&out2, 1, 0, 2).ok());
  tx->kick();
  ASSERT_EQ(wait(*tx, c), drv::Poll::done);
  ASSERT_TRUE(eventually_within([&] { return after.size() == 5; }, 5s));
  EXPECT_EQ(text_of(after.bytes()), "after");
  EXPECT_EQ(s.t.interrupt_status() & drv::kInterruptConfig, 0u);  // no size announcement again
}

TEST(VirtioState, DeviceBetweenProbeStepsIsRestoredInactive) {
  // Snapshot while the driver sets up its queue: registers come back, the device is not active,
  // and the driver's DRIVER_OK after resume activates it as usual.
  Session s;
  s.attach(std::make_shared<Rng>());
  auto accepted = drv::negotiate(s.t, drv::bit(drv::kFeatureEventIdx));
  ASSERT_TRUE(accepted.ok());
  auto ring = s.t.setup_queue(s.arena, 0, 16, drv::ring_options(*accepted, 0));
  ASSERT_TRUE(ring.ok());
  const Snapshot snap = s.take();
  s.replace([] { return std::make_shared<Rng>(); }, snap);
  ASSERT_TRUE(s.restore(snap.state));
  EXPECT_EQ(s.t.status(), drv::kStatusAcknowledge | drv::kStatusDriver);
  EXPECT_EQ(s.t.queue_pfn(0), ring->layout().desc / 4096);
  s.transport->resume();
  ASSERT_EQ(drv::driver_ok(s.t), drv::Error::none);
  drv::Queue<Mmio> q(&s.t, 0, *ring);
  auto buf = s.arena.allocate(64, 64);
  ASSERT_TRUE(buf.ok());
  const drv::Segment seg{buf->phys, 64};
  ASSERT_TRUE(q.add(&seg, 0, 1, 5).ok());
  q.kick();
  drv::Completion c;
  ASSERT_EQ(wait(q, c), drv::Poll::done);
  EXPECT_EQ(c.token, 5u);
}

TEST(VirtioState, SaveRefusedWhileRunning) {
  Session s;
  s.attach(std::make_shared<Rng>());
  snapshot::Encoder e;
  auto ok = s.transport->save_state(e);
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("pause it first"), std::string::npos) << ok.error().message;
}

}  // namespace
}  // namespace kiln::virtio::test
