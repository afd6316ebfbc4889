// virtio-blk snapshot state behind the virtio-mmio transport: requests in flight when the VM
// pauses are answered and survive a restore into a fresh device; every truncation and every bad
// field of the transport's state is refused with a message that names it, leaving the transport
// reset (the VMM's part is played by Session, virtio_state_test_util.h).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "drivers/virtio/blk.h"
#include "virtio/blk/block_device.h"
#include "virtio_blk_test_util.h"
#include "virtio_state_test_util.h"

namespace kiln::virtio::blk::test {
namespace {

using virtio::test::drv::Segment;
using virtio::test::Mmio;
using virtio::test::Session;
using virtio::test::Snapshot;
namespace drv = kiln::driver;

constexpr uint64_t kWanted = drv::bit(drv::blk::kFeatureFlush) | drv::bit(drv::blk::kFeatureBlkSize) |
                             drv::bit(drv::blk::kFeatureSegMax) | drv::bit(drv::kFeatureEventIdx) |
                             drv::bit(drv::kFeatureIndirectDesc);
constexpr uint32_t kRequests = 48;

// A disk brought up by the driver library, with kRequests requests and 4 KiB buffers.
struct BlkSession : Session {
  explicit BlkSession(const TempImage& image) : image_(image) { attach(make_device()); }
  [[nodiscard]] std::shared_ptr<VirtioDevice> make_device() const {
    auto d = BlockDevice::create(image_.options());
    EXPECT_TRUE(d.has_value());
    return d ? std::shared_ptr<VirtioDevice>(*d) : nullptr;
  }
  void bring_up() {
    auto accepted = drv::negotiate(t, kWanted);
    ASSERT_TRUE(accepted.ok());
    auto q = drv::setup_queue(t, arena, 0, 128, drv::ring_options(*accepted, 16));
    ASSERT_TRUE(q.ok());
    queue = *q;
    ASSERT_EQ(drv::driver_ok(t), drv::Error::none);
    for (auto& r : reqs) r = *drv::BlkRequest::allocate(arena);
    for (auto& b : bufs) b = *arena.allocate(4096, 4096);
  }
  void submit(uint32_t i, uint32_t type, uint64_t sector) {
    const Segment seg{bufs[i].phys, 4096};
    ASSERT_TRUE(drv::blk_submit(queue, reqs[i], type, sector, &seg, 1, i).ok());
  }
  // Polls until every token in [first, last) came back once, with status OK.
  void collect(uint32_t first, uint32_t last) {
    std::vector<bool> seen(kRequests, false);
    for (uint32_t n = first; n < last; ++n) {
      drv::Completion c;
      ASSERT_EQ(virtio::test::wait(queue, c), drv::Poll::done) << n;
      ASSERT_LT(c.token, kRequests);
      ASSERT_FALSE(seen[c.token]) << c.token;
      seen[c.token] = true;
      EXPECT_EQ(reqs[c.token].status(), kStatusOk) << c.token;
    }
  }
  [[nodiscard]] const SplitQueue* device_queue() const { return device->active_queue(0); }

  const TempImage& image_;
  drv::Queue<Mmio> queue;
  drv::BlkRequest reqs[kRequests];
  drv::DmaBuffer bufs[kRequests];
};

TEST(VirtioBlkState, RequestsInFlightAtTheSnapshotCompleteAfterRestore) {
  TempImage image(1 * MiB);
  BlkSession s(image);
  s.bring_up();
  // Writes, and no waiting: the snapshot comes while the device is busy with them.
  for (uint32_t i = 0; i < kRequests; ++i) {
    std::memset(s.bufs[i].host, static_cast<int>(0x40 + i), 4096);
    s.submit(i, drv::blk::kTypeOut, 8 * uint64_t{i});
  }
  ASSERT_TRUE(s.transport->pause());
  ASSERT_NE(s.device_queue(), nullptr);
  EXPECT_EQ(s.device_queue()->in_flight(), 0);  // pause() answered everything it had started
  const Snapshot snap = s.take();
  s.replace([&] { return s.make_device(); }, snap);
  ASSERT_TRUE(s.restore(snap.state));
  s.transport->resume();
  s.collect(0, kRequests);
  for (uint32_t i = 0; i < kRequests; ++i) {
    ASSERT_EQ(image.read(4096 * uint64_t{i}, 4096), std::vector<uint8_t>(4096, static_cast<uint8_t>(0x40 + i))) << i;
  }
  // The same queue serves new requests: read everything back.
  for (uint32_t i = 0; i < kRequests; ++i) {
    std::memset(s.bufs[i].host, 0, 4096);
    s.submit(i, drv::blk::kTypeIn, 8 * uint64_t{i});
  }
  s.collect(0, kRequests);
  for (uint32_t i = 0; i < kRequests; ++i) EXPECT_EQ(s.bufs[i].host[4095], 0x40 + i) << i;
}

// Field offsets in a blk transport's state (u32 size prefixes before each record).
constexpr size_t kT = 4;             // TransportRecord
constexpr size_t kQ = kT + 48 + 4;   // QueueRecord of queue 0
constexpr size_t kP = kQ + 16 + 4;   // queue 0's position
constexpr size_t kD = kP + 10;       // u32 length of the device record
constexpr size_t kDisk = kD + 4 + 4; // DiskRecord
constexpr size_t kStateBytes = kDisk + 16;

template <typename T>
std::vector<uint8_t> with(std::vector<uint8_t> bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
  return bytes;
}
template <typename T>
T field(const std::vector<uint8_t>& bytes, size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}

// An active disk's state after some requests, and a fresh transport to restore into.
struct Refusals : ::testing::Test {
  void SetUp() override {
    s.bring_up();
    for (uint32_t i = 0; i < 3; ++i) s.submit(i, drv::blk::kTypeIn, i);
    s.collect(0, 3);
    ASSERT_TRUE(s.transport->pause());
    snap = s.take();
    ASSERT_EQ(snap.state.size(), kStateBytes);
    s.replace([&] { return s.make_device(); }, snap);
  }
  // The restore fails with `words` in the message, and the transport is left reset.
  void refused(std::span<const uint8_t> state, const std::string& words) {
    auto ok = s.restore(state);
    ASSERT_FALSE(ok) << words;
    EXPECT_NE(ok.error().message.find(words), std::string::npos) << ok.error().message;
    expect_reset();
  }
  void expect_reset() {
    EXPECT_EQ(s.t.status(), 0);
    EXPECT_EQ(s.t.queue_pfn(0), 0u);
    EXPECT_EQ(s.t.interrupt_status(), 0u);
    EXPECT_EQ(static_cast<BlockDevice&>(*s.device).engine_name(), "inactive");
  }

  TempImage image{1 * MiB};
  BlkSession s{image};
  Snapshot snap;
};

TEST_F(Refusals, EveryTruncation) {
  for (size_t len = 0; len < snap.state.size(); ++len) {
    SCOPED_TRACE(len);
    refused(std::span(snap.state.data(), len), "truncated");
  }
  std::vector<uint8_t> longer = snap.state;
  longer.push_back(0);
  refused(longer, "trailing");
  // The same transport takes the whole state afterwards.
  ASSERT_TRUE(s.restore(snap.state));
  s.transport->resume();
  s.submit(5, drv::blk::kTypeIn, 0);
  s.collect(0, 1);
}

TEST_F(Refusals, BadTransportRegisters) {
  const auto& st = snap.state;
  const uint32_t status = field<uint32_t>(st, kT + 28);
  refused(with<uint32_t>(st, kT + 0, kIdRng), "device ID");
  refused(with<uint32_t>(st, kT + 40, 2), "queues saved");
  refused(with<uint64_t>(st, kT + 16, field<uint64_t>(st, kT + 16) | (1u << 20)), "acknowledged features");
  refused(with<uint32_t>(st, kT + 12, 4095), "GuestPageSize");
  refused(with<uint32_t>(st, kT + 28, 0x100 | status), "wider than 8 bits");
  refused(with<uint32_t>(st, kT + 28, status & ~uint32_t{kStatusDriverOk}), "DRIVER_OK");
  refused(with<uint32_t>(st, kT + 32, 4), "InterruptStatus");
  refused(with<uint32_t>(st, kT + 36, 2), "flags");
  refused(with<uint32_t>(st, kT + 44, 1), "flags");
}

TEST_F(Refusals, BadQueues) {
  const auto& st = snap.state;
  const uint16_t used = field<uint16_t>(st, kP + 4);
  refused(with<uint32_t>(st, kQ + 0, 3), "QueueNum");
  refused(with<uint32_t>(st, kQ + 0, 512), "QueueNum");
  refused(with<uint32_t>(st, kQ + 0, 0), "QueueNum 0");
  refused(with<uint32_t>(st, kQ + 4, 4097), "QueueAlign");
  refused(with<uint32_t>(st, kQ + 8, 0xfffff), "not inside guest RAM");
  refused(with<uint32_t>(st, kQ + 12, 0), "position");
  refused(with<uint32_t>(st, kQ + 12, 7), "position flag");
  refused(with<uint16_t>(st, kP + 0, 64), "entries saved");
  refused(with<uint16_t>(st, kP + 4, static_cast<uint16_t>(used + 1)), "used index");
  refused(with<uint16_t>(st, kP + 2, static_cast<uint16_t>(used + 1)), "in flight");
  refused(with<uint16_t>(st, kP + 2, static_cast<uint16_t>(used + 200)), "more than 128 entries");
  refused(with<uint16_t>(st, kP + 8, 2), "broken");
  // Guest memory from another moment than the device state.
  ASSERT_TRUE(s.mem.write_obj(GuestAddress(s.queue.ring().layout().used + 2), static_cast<uint16_t>(used + 3)));
  refused(st, "guest memory holds");
}

TEST_F(Refusals, AnotherDisk) {
  const auto& st = snap.state;
  EXPECT_EQ(field<uint32_t>(st, kD), 20u);
  refused(with<uint32_t>(st, kD, 1000), "truncated");
  refused(with<uint32_t>(st, kD, 19), "truncated");
  refused(with<uint64_t>(st, kDisk, 4096), "has 4096 sectors");
  refused(with<uint32_t>(st, kDisk + 8, 1), "was read-only");
  refused(with<uint32_t>(st, kDisk + 8, 2), "not 0 or 1");
  // The same state against a bigger image.
  TempImage bigger(2 * MiB);
  s.transport->shutdown();
  s.transport.reset();
  s.device.reset();
  s.attach(*BlockDevice::create(bigger.options()));
  refused(st, "has 2048 sectors of 512 bytes, this image 4096");
}

}  // namespace
}  // namespace kiln::virtio::blk::test
