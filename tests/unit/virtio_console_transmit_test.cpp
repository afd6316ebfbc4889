// virtio-console transmitq (queue 1): guest output reaches the Output callback in order.
#include <gtest/gtest.h>

#include <string>

#include "virtio_console_test_util.h"

namespace kiln::virtio::test {
namespace {

TEST(VirtioConsoleTransmit, OutputInOrderAcrossManyChains) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  std::string expected;
  // 1000 chains through a 16-entry queue: the ring wraps many times; some chains are split over
  // two or three buffers (a line cut anywhere must come out whole). At most 5 chains of up to 3
  // descriptors are in flight, so the driver never reuses a descriptor the device may still read.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(eventually([&] {
      h.kick_tx();
      return h.tx.in_flight_below(5);
    }));
    const std::string line = "line " + std::to_string(i) + "\r\n";
    const uint64_t at = kData + static_cast<uint64_t>(i % 16) * 256;
    h.write(at, line);
    expected += line;
    const uint32_t len = static_cast<uint32_t>(line.size());
    if (i % 3 == 0) {
      h.tx.add({{at, len}});
    } else if (i % 3 == 1) {
      h.tx.add({{at, 2}, {at + 2, len - 2}});
    } else {
      h.tx.add({{at, 1}, {at + 1, 0}, {at + 1, len - 1}});  // an empty buffer in the middle too
    }
    if (i % 5 == 0) h.kick_tx();  // the driver batches notifications
  }
  h.kick_tx();
  ASSERT_TRUE(eventually([&] { return h.output.size() == expected.size(); }));
  EXPECT_EQ(text_of(h.output.bytes()), expected);
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 1000; }));
  for (uint16_t i = 0; i < 16; ++i) EXPECT_EQ(h.tx.used(i).len, 0u);  // the device writes nothing
  EXPECT_TRUE(eventually([&] { return h.interrupt.used.load() > 0; }));  // raised just after the used entry
}

TEST(VirtioConsoleTransmit, WritableBuffersAreIgnored) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  h.write(kData, "abc");
  h.write(kData + 4096, "untouched");
  const uint16_t head = h.tx.add({{kData, 3}, {kData + 4096, 9, true}});
  h.kick_tx();
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 1; }));
  EXPECT_EQ(h.tx.used(0).id, head);
  EXPECT_EQ(h.tx.used(0).len, 0u);
  // The buffer goes back as soon as it is copied, so Output may run just after.
  ASSERT_TRUE(eventually([&] { return h.output.size() == 3; }));
  EXPECT_EQ(text_of(h.output.bytes()), "abc");
  EXPECT_EQ(text_of(h.read(kData + 4096, 9)), "untouched");
}

TEST(VirtioConsoleTransmit, HugeChainGoesOutInBoundedPieces) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  constexpr uint32_t kHuge = 300 * KiB;  // more than four temporaries' worth
  std::string data(kHuge, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  h.write(kData, data);
  h.tx.add({{kData, 100 * KiB}, {kData + 100 * KiB, kHuge - 100 * KiB}});
  h.kick_tx();
  ASSERT_TRUE(eventually([&] { return h.output.size() == kHuge; }));
  EXPECT_EQ(text_of(h.output.bytes()), data);
  for (size_t piece : h.output.pieces()) EXPECT_LE(piece, ConsoleDevice::kChunkBytes);
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 1; }));
}

TEST(VirtioConsoleTransmit, MalformedChainsComeBackEmptyAndOutputContinues) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  h.tx.add({{kRamSize - 2, 16}});  // runs past the end of guest RAM
  // A chain whose `next` leaves the queue.
  h.tx.set_desc(5, {kData, 4, kDescFNext, 200});
  h.tx.publish(5);
  // A device-readable buffer after a device-writable one (2.4.1 forbids it).
  h.tx.set_desc(6, {kData, 4, kDescFWrite | kDescFNext, 7});
  h.tx.set_desc(7, {kData, 4, 0, 0});
  h.tx.publish(6);
  h.write(kData + 8192, "still here");
  h.tx.set_desc(8, {kData + 8192, 10, 0, 0});
  h.tx.publish(8);
  h.kick_tx();
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 4; }));
  ASSERT_TRUE(eventually([&] { return h.output.size() == 10; }));
  EXPECT_EQ(text_of(h.output.bytes()), "still here");
  for (uint16_t i = 0; i < 4; ++i) EXPECT_EQ(h.tx.used(i).len, 0u);
  EXPECT_EQ(h.tx.used(3).id, 8u);
}

TEST(VirtioConsoleTransmit, IndirectChain) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  h.write(kData, "indirect!");
  const std::array table{Descriptor{kData, 4, kDescFNext, 1}, Descriptor{kData + 4, 5, 0, 0}};
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(kData + 4096), table));
  h.tx.set_desc(0, {kData + 4096, sizeof(table), kDescFIndirect, 0});
  h.tx.publish(0);
  h.kick_tx();
  ASSERT_TRUE(eventually([&] { return h.output.size() == 9; }));
  EXPECT_EQ(text_of(h.output.bytes()), "indirect!");
}

TEST(VirtioConsoleTransmit, NoInterruptWhenTheDriverSaysSo) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate(feature(kConsoleFSize)));  // no EVENT_IDX: the avail flag decides
  h.tx.set_avail_flags(kAvailFNoInterrupt);
  h.write(kData, "quiet");
  h.tx.add({{kData, 5}});
  h.kick_tx();
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 1; }));
  ASSERT_TRUE(eventually([&] { return h.output.size() == 5; }));
  EXPECT_EQ(h.interrupt.used.load(), 0);
}

TEST(VirtioConsoleTransmit, ChainsPostedBeforeDriverOkAreServed) {
  ConsoleHarness h;
  h.write(kData, "early");
  h.tx.add({{kData, 5}});
  // The driver kicked before DRIVER_OK and the transport dropped that notification.
  ASSERT_TRUE(h.activate());
  ASSERT_TRUE(eventually([&] { return h.output.size() == 5; }));
  EXPECT_EQ(text_of(h.output.bytes()), "early");
}

TEST(VirtioConsoleTransmit, ResetDoesNotWaitForTheWholeQueue) {
  ConsoleHarness h;  // for its memory, rings and interrupt
  std::atomic<int> pieces{0};
  ConsoleDevice device([&](std::span<const uint8_t>) {
    ++pieces;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a slow stdout
  });
  Activation a;
  a.mem = &h.mem;
  a.features = device.features();
  a.interrupt = &h.interrupt;
  a.queues.resize(2);
  a.queues[1].queue.emplace(*SplitQueue::create(h.mem, h.tx.layout(), a.features));
  a.queues[1].notify_fd = h.tx_notify.fd();
  for (int i = 0; i < 15; ++i) h.tx.add({{kData, 1}});
  ASSERT_TRUE(device.activate(std::move(a)));  // no receiveq: the device serves what it has
  ASSERT_TRUE(eventually([&] { return pieces.load() > 0; }));
  const auto start = std::chrono::steady_clock::now();
  device.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));  // not 15 x 20 ms
  const int after_reset = pieces.load();
  EXPECT_LT(after_reset, 15);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(pieces.load(), after_reset);  // nothing runs after reset returned
}

}  // namespace
}  // namespace kiln::virtio::test
