// virtio-net transmitq (queue 1): frames leave through the backend straight from guest memory;
// malformed chains drop that frame only, counted.
#include <gtest/gtest.h>

#include "virtio_net_test_util.h"

namespace kiln::virtio::net::test {
namespace {

TEST(VirtioNetTransmit, FrameReachesTheHostWithItsHeader) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  std::vector<uint8_t> frame = framed(10, {0x02, 1, 2, 3, 4, 5}, 60);
  frame[0] = kHdrFNeedsCsum;  // the header goes through untouched: the tap interprets it
  frame[6] = 34;
  const uint16_t head = h.guest_send(frame);
  auto got = h.host_receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, frame);
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 1; }));
  EXPECT_EQ(h.tx.used(0).id, head);
  EXPECT_EQ(h.tx.used(0).len, 0u);
  EXPECT_TRUE(eventually([&] { return h.interrupt.used.load() > 0; }));
  const NetCounters c = h.device->counters();
  EXPECT_EQ(c.tx_frames, 1u);
  EXPECT_EQ(c.tx_bytes, 60u);
  EXPECT_EQ(c.tx_drops, 0u);
}

TEST(VirtioNetTransmit, ScatteredChainIsGatheredInOrder) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf)));
  const std::vector<uint8_t> frame = framed(12, {0x02, 1, 2, 3, 4, 5}, 3000);
  // Header alone, then the frame in three uneven pieces in separate places (as Linux's skb frags).
  const uint64_t at[] = {kData, kData + 64 * KiB, kData + 200 * KiB, kData + 300 * KiB};
  const size_t cut[] = {0, 12, 100, 2000, frame.size()};
  std::vector<Buf> bufs;
  for (size_t i = 0; i < 4; ++i) {
    h.write(at[i], std::vector<uint8_t>(frame.begin() + static_cast<long>(cut[i]), frame.begin() + static_cast<long>(cut[i + 1])));
    bufs.push_back({at[i], static_cast<uint32_t>(cut[i + 1] - cut[i])});
  }
  h.tx.add(bufs);
  h.tx_notify.signal();
  auto got = h.host_receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, frame);
  EXPECT_TRUE(eventually([&] { return h.device->counters().tx_bytes == 3000; }));  // counted after writev
}

TEST(VirtioNetTransmit, ManyFramesAllArriveInOrder) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  // More than one batch (kTxBatch), in rounds the 256-entry ring can hold.
  int received = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      std::vector<uint8_t> f = framed(10, {0x02, 0, 0, 0, 0, 1}, 64, static_cast<uint8_t>(i));
      f[10 + 6] = static_cast<uint8_t>(i);
      h.write(kData + static_cast<uint64_t>(i) * 256, f);
      h.tx.add({{kData + static_cast<uint64_t>(i) * 256, static_cast<uint32_t>(f.size())}});
    }
    h.tx_notify.signal();
    for (int i = 0; i < 200; ++i) {
      auto got = h.host_receive();
      ASSERT_TRUE(got) << "frame " << i;
      EXPECT_EQ((*got)[10 + 6], static_cast<uint8_t>(i));
      ++received;
    }
    ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == static_cast<uint16_t>(200 * (round + 1)); }));
  }
  EXPECT_EQ(received, 600);
  EXPECT_EQ(h.device->counters().tx_frames, 600u);
}

TEST(VirtioNetTransmit, MalformedFramesAreDroppedAndCountedAndTheDeviceGoesOn) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf)));
  // A header shorter than negotiated (12 with MRG_RXBUF).
  h.write(kData, std::vector<uint8_t>(11, 0));
  h.tx.add({{kData, 11}});
  // A frame above 64 KiB + header.
  h.tx.add({{kData, 12 + kMaxFrameBytes + 1}});
  // A descriptor outside guest RAM (the queue refuses the chain).
  h.tx.add({{15 * MiB, 2 * MiB}});
  // A chain with only a writable buffer.
  h.tx.add({{kData, 64, true}});
  h.tx_notify.signal();
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 4; }));
  EXPECT_EQ(h.device->counters().tx_drops, 4u);
  EXPECT_EQ(h.device->counters().tx_frames, 0u);
  EXPECT_GE(h.device->guest_errors().count(), 4u);
  EXPECT_FALSE(h.host_receive(50));  // nothing reached the host
  // The next good frame goes through.
  const std::vector<uint8_t> frame = framed(12, {0x02, 1, 2, 3, 4, 5}, 100);
  h.guest_send(frame);
  auto got = h.host_receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, frame);
}

TEST(VirtioNetTransmit, HostRefusalDropsTheFrameOnly) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  h.state->fail_writes = true;
  h.guest_send(framed(10, {0x02, 1, 2, 3, 4, 5}, 60));
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 1; }));
  EXPECT_EQ(h.device->counters().tx_drops, 1u);
  EXPECT_EQ(h.device->guest_errors().count(), 0u);  // not the guest's fault
  h.state->fail_writes = false;
  h.guest_send(framed(10, {0x02, 1, 2, 3, 4, 5}, 60));
  EXPECT_TRUE(h.host_receive());
}

}  // namespace
}  // namespace kiln::virtio::net::test
