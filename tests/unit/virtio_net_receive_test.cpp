// virtio-net receiveq (queue 0): frames from the backend land in the guest's buffers, one chain
// each, or spread over several with MRG_RXBUF (num_buffers); without buffers the device stops
// reading and loses nothing.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "virtio_net_test_util.h"

namespace kiln::virtio::net::test {
namespace {

uint16_t num_buffers(const NetHarness& h, uint64_t at) {
  auto b = h.read(at + kNumBuffersOffset, 2);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}

TEST(VirtioNetReceive, FrameFillsOneBuffer) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  const uint16_t head = h.post_rx(kData, 1526);
  const std::vector<uint8_t> frame = framed(10, kGuestMac, 1000);
  h.host_send(frame);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).id, head);
  EXPECT_EQ(h.rx.used(0).len, frame.size());
  EXPECT_EQ(h.read(kData, frame.size()), frame);
  EXPECT_TRUE(eventually([&] { return h.interrupt.used.load() > 0; }));
  EXPECT_EQ(h.device->counters().rx_frames, 1u);
  EXPECT_EQ(h.device->counters().rx_bytes, 1000u);
}

TEST(VirtioNetReceive, WithoutBuffersNothingIsReadAndNothingLost) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  for (uint8_t i = 0; i < 5; ++i) h.host_send(framed(10, kGuestMac, 100, i));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(h.rx.used_idx(), 0);
  EXPECT_EQ(h.device->counters().rx_drops, 0u);
  for (uint64_t i = 0; i < 5; ++i) h.post_rx(kData + i * 2048, 1526, i == 4);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 5; }));
  for (uint8_t i = 0; i < 5; ++i) EXPECT_EQ(h.read(kData + i * 2048ull, 110), framed(10, kGuestMac, 100, i)) << int{i};
  // Two more buffers than frames: a later frame uses them without another notify.
  h.post_rx(kData + 5 * 2048, 1526);
  h.host_send(framed(10, kGuestMac, 200, 9));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 6; }));
  EXPECT_EQ(h.device->counters().rx_frames, 6u);
}

TEST(VirtioNetReceive, BigFrameIntoAChainOfPages) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFGuestCsum) | feature(kFGuestTso4)));
  // Linux's "big packets" layout: the header alone, then pages.
  std::vector<Buf> bufs{{kData, 10, true}};
  for (uint64_t i = 0; i < 17; ++i) bufs.push_back({kData + 4096 * (i + 1), 4096, true});
  h.rx.add(bufs);
  h.rx_notify.signal();
  const std::vector<uint8_t> frame = framed(10, kGuestMac, 60000);
  h.host_send(frame);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).len, frame.size());
  EXPECT_EQ(h.read(kData, 10), std::vector<uint8_t>(frame.begin(), frame.begin() + 10));
  EXPECT_EQ(h.read(kData + 4096, 60000), std::vector<uint8_t>(frame.begin() + 10, frame.end()));
  EXPECT_EQ(h.state->offloads.load(), kOffloadCsum | kOffloadTso4);
}

TEST(VirtioNetReceive, TooBigForTheBufferWithoutMergeIsDroppedAndTheBufferReused) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  h.post_rx(kData, 1526);
  h.host_send(framed(10, kGuestMac, 3000));
  h.host_send(framed(10, kGuestMac, 500, 7));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).len, 510u);
  EXPECT_EQ(h.read(kData, 510), framed(10, kGuestMac, 500, 7));
  EXPECT_EQ(h.device->counters().rx_drops, 1u);
}

TEST(VirtioNetReceive, MergeableFramesShareAndSpreadOverBuffers) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf)));
  EXPECT_EQ(h.state->header_bytes.load(), 12u);
  // 40 buffers of 2 KiB: a 5000-byte frame takes three, a small one the next.
  std::vector<uint16_t> heads;
  for (uint64_t i = 0; i < 40; ++i) heads.push_back(h.post_rx(kData + i * 4096, 2048, i == 39));
  const std::vector<uint8_t> big = framed(12, kGuestMac, 5000, 3);
  const std::vector<uint8_t> small = framed(12, kGuestMac, 60, 4);
  h.host_send(big);
  h.host_send(small);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 4; }));
  EXPECT_EQ(num_buffers(h, kData), 3);
  EXPECT_EQ(h.rx.used(0).id, heads[0]);
  EXPECT_EQ(h.rx.used(0).len, 2048u);
  EXPECT_EQ(h.rx.used(1).len, 2048u);
  EXPECT_EQ(h.rx.used(2).len, big.size() - 4096);
  std::vector<uint8_t> joined;
  for (uint64_t i = 0; i < 3; ++i) {
    auto part = h.read(kData + i * 4096, h.rx.used(static_cast<uint16_t>(i)).len);
    joined.insert(joined.end(), part.begin(), part.end());
  }
  joined[10] = joined[11] = 0;  // num_buffers is the device's
  EXPECT_EQ(joined, big);
  EXPECT_EQ(h.rx.used(3).id, heads[3]);
  EXPECT_EQ(num_buffers(h, kData + 3 * 4096), 1);
  EXPECT_EQ(h.rx.used(3).len, small.size());
}

TEST(VirtioNetReceive, MergeableFrameWaitsForMoreBuffersAndArrivesWhole) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf) | feature(kFGuestCsum) | feature(kFGuestTso4)));
  h.post_rx(kData, 4096);
  const std::vector<uint8_t> big = framed(12, kGuestMac, 20000, 5);
  const std::vector<uint8_t> next = framed(12, kGuestMac, 100, 6);
  h.host_send(big);
  h.host_send(next);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(h.rx.used_idx(), 0);  // held: one buffer is not enough
  for (uint64_t i = 1; i <= 6; ++i) h.post_rx(kData + i * 4096, 4096, i == 6);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 6; }));
  EXPECT_EQ(num_buffers(h, kData), 5);
  std::vector<uint8_t> joined;
  for (uint16_t i = 0; i < 5; ++i) {
    auto part = h.read(kData + i * 4096ull, h.rx.used(i).len);
    joined.insert(joined.end(), part.begin(), part.end());
  }
  joined[10] = joined[11] = 0;
  EXPECT_EQ(joined, big);
  // The frame behind it was not lost either.
  EXPECT_EQ(num_buffers(h, kData + 5 * 4096), 1);
  auto got = h.read(kData + 5 * 4096, next.size());
  got[10] = got[11] = 0;
  EXPECT_EQ(got, next);
  EXPECT_EQ(h.device->counters().rx_frames, 2u);
  EXPECT_EQ(h.device->counters().rx_drops, 0u);
}

TEST(VirtioNetReceive, BadReceiveBuffersAreCountedAndSkipped) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  h.rx.add({{kData, 4, true}});        // smaller than the header
  h.rx.add({{15 * MiB, 4 * MiB, true}});  // outside RAM
  h.post_rx(kData + 8192, 1526);
  h.host_send(framed(10, kGuestMac, 80));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 3; }));
  EXPECT_EQ(h.rx.used_len_of(0), 0u);
  EXPECT_EQ(h.rx.used(2).len, 90u);
  EXPECT_GE(h.device->guest_errors().count(), 2u);
}

TEST(VirtioNetReceive, AHostSideThatFailsStopsReceiveWithoutSpinning) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  for (uint64_t i = 0; i < 4; ++i) h.post_rx(kData + i * 2048, 1526, i == 3);
  h.host_send(framed(10, kGuestMac, 60));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  h.peer.reset();  // the tap goes away: readable forever, every read fails
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  const auto cpu_us = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000ll + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
  };
  EXPECT_LT(cpu_us(after) - cpu_us(before), 100000) << "the device thread spins on a failed tap";
  // Transmit still completes (each frame dropped and counted).
  h.guest_send(framed(10, {0x02, 1, 2, 3, 4, 5}, 60));
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 1; }));
  EXPECT_EQ(h.device->counters().tx_drops, 1u);
}

TEST(VirtioNetReceive, ABusyHostDoesNotHoldTheDeviceThread) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features()));
  for (uint64_t i = 0; i < 256; ++i) h.post_rx(kData + i * 2048, 1526, false);
  h.rx_notify.signal();
  // More frames than buffers, then a reset: it must return promptly.
  for (int i = 0; i < 300; ++i) h.host_send(framed(10, kGuestMac, 64));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 256; }));
  const auto start = std::chrono::steady_clock::now();
  h.device->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace kiln::virtio::net::test
