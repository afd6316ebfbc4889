// virtio-console receiveq (queue 0): host input lands in the buffers the driver posts.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "virtio_console_test_util.h"

namespace kiln::virtio::test {
namespace {

TEST(VirtioConsoleReceive, InputFillsPostedBuffersInOrder) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  const uint16_t first = h.rx.add({{kData, 8, true}});
  const uint16_t second = h.rx.add({{kData + 4096, 4, true}, {kData + 8192, 64, true}});
  h.kick_rx();
  EXPECT_EQ(h.device.enqueue_input(bytes_of("hello world!")), 12u);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 2; }));
  EXPECT_EQ(h.rx.used(0).id, first);
  EXPECT_EQ(h.rx.used(0).len, 8u);
  EXPECT_EQ(text_of(h.read(kData, 8)), "hello wo");
  EXPECT_EQ(h.rx.used(1).id, second);
  EXPECT_EQ(h.rx.used(1).len, 4u);  // a partly filled buffer: used len says how much
  EXPECT_EQ(text_of(h.read(kData + 4096, 4)), "rld!");
  EXPECT_TRUE(eventually([&] { return h.interrupt.used.load() > 0; }));
  EXPECT_EQ(h.device.input_space(), ConsoleDevice::kInputCapacity);
}

TEST(VirtioConsoleReceive, BuffersPostedAfterInputArePickedUp) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  EXPECT_EQ(h.device.enqueue_input(bytes_of("typed ahead")), 11u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(h.rx.used_idx(), 0);  // nothing to put it in yet
  h.rx.add({{kData, 64, true}});
  h.kick_rx();
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).len, 11u);
  EXPECT_EQ(text_of(h.read(kData, 11)), "typed ahead");
}

TEST(VirtioConsoleReceive, InputBeforeDriverOkIsBuffered) {
  ConsoleHarness h;
  EXPECT_EQ(h.device.enqueue_input(bytes_of("before ")), 7u);
  EXPECT_EQ(h.device.enqueue_input(bytes_of("boot")), 4u);
  h.rx.add({{kData, 64, true}});
  ASSERT_TRUE(h.activate());
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).len, 11u);
  EXPECT_EQ(text_of(h.read(kData, 11)), "before boot");
}

TEST(VirtioConsoleReceive, BufferIsBoundedAndNeverBlocks) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());  // a driver that never posts receive buffers
  std::vector<uint8_t> big(100 * KiB);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(h.device.enqueue_input(big), ConsoleDevice::kInputCapacity);
  EXPECT_EQ(h.device.enqueue_input(big), 0u);  // full: the caller keeps or drops the rest
  EXPECT_EQ(h.device.input_space(), 0u);
  EXPECT_FALSE(h.device.wait_for_input_space(std::chrono::milliseconds(1)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  // Once the driver posts buffers, the first 64 KiB arrive in order and space comes back.
  for (uint64_t i = 0; i < 16; ++i) h.rx.add({{kData + i * 4096, 4096, true}});
  h.kick_rx();
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 16; }));
  const auto got = h.read(kData, ConsoleDevice::kInputCapacity);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), big.begin()));
  EXPECT_TRUE(h.device.wait_for_input_space(std::chrono::seconds(1)));
  EXPECT_EQ(h.device.input_space(), ConsoleDevice::kInputCapacity);
}

TEST(VirtioConsoleReceive, ResetKeepsPendingInput) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  EXPECT_EQ(h.device.enqueue_input(bytes_of("survives")), 8u);
  h.device.reset();
  EXPECT_EQ(h.device.enqueue_input(bytes_of(" reset")), 6u);  // taken while no driver runs
  // The driver sets the device up again, with fresh rings.
  ASSERT_TRUE(h.mem.fill(GuestAddress(kRxBase), 64 * KiB, 0));
  h.rx = DriverQueue(h.mem, kRxBase, 16);
  h.rx.add({{kData, 64, true}});
  ASSERT_TRUE(h.activate());
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).len, 14u);
  EXPECT_EQ(text_of(h.read(kData, 14)), "survives reset");
}

TEST(VirtioConsoleReceive, ReadableBuffersAreIgnored) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  h.write(kData, "RRRR");
  const uint16_t head = h.rx.add({{kData, 4}, {kData + 4096, 8, true}});
  h.kick_rx();
  EXPECT_EQ(h.device.enqueue_input(bytes_of("abcdefghij")), 10u);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).id, head);
  EXPECT_EQ(h.rx.used(0).len, 8u);  // only what went into the writable part
  EXPECT_EQ(text_of(h.read(kData, 4)), "RRRR");
  EXPECT_EQ(text_of(h.read(kData + 4096, 8)), "abcdefgh");
  EXPECT_EQ(h.device.input_space(), ConsoleDevice::kInputCapacity - 2);  // "ij" waits
}

TEST(VirtioConsoleReceive, ChainWithoutRoomComesBackEmpty) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  h.rx.add({{kData, 16}});                     // readable only
  h.rx.set_desc(9, {kRamSize, 16, kDescFWrite, 0});  // outside guest RAM
  h.rx.publish(9);
  h.rx.add({{kData + 4096, 16, true}});
  h.kick_rx();
  EXPECT_EQ(h.device.enqueue_input(bytes_of("kept")), 4u);
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 3; }));
  EXPECT_EQ(h.rx.used(0).len, 0u);
  EXPECT_EQ(h.rx.used(1).len, 0u);
  EXPECT_EQ(h.rx.used(1).id, 9u);
  EXPECT_EQ(h.rx.used(2).len, 4u);  // the input went to the first buffer that could hold it
  EXPECT_EQ(text_of(h.read(kData + 4096, 4)), "kept");
}

TEST(VirtioConsoleReceive, ContinuousInputAcrossBufferReuse) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  // A driver recycling 4 small buffers while kiln's stdin thread pushes 20 KiB.
  std::string sent;
  for (int i = 0; sent.size() < 20 * KiB; ++i) sent += "key " + std::to_string(i) + "\n";
  std::atomic<bool> give_up{false};
  std::thread typist([&] {
    std::span<const uint8_t> left = bytes_of(sent);
    while (!left.empty() && !give_up) {
      left = left.subspan(h.device.enqueue_input(left.subspan(0, std::min<size_t>(left.size(), 100))));
      std::this_thread::yield();
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Join() {
      stop = true;
      thread.join();
    }
  } join{give_up, typist};
  std::string received;
  uint16_t seen = 0;
  std::map<uint32_t, uint64_t> buffer_of;  // head -> buffer address
  for (int i = 0; i < 4; ++i) {
    const uint64_t addr = kData + static_cast<uint64_t>(i) * 4096;
    buffer_of[h.rx.add({{addr, 64, true}})] = addr;
  }
  h.kick_rx();
  while (received.size() < sent.size()) {
    ASSERT_TRUE(eventually([&] { return h.rx.used_idx() != seen; }));
    const UsedElement e = h.rx.used(seen++);
    ASSERT_LE(e.len, 64u);
    const uint64_t addr = buffer_of.at(e.id);
    received += text_of(h.read(addr, e.len));
    buffer_of.erase(e.id);
    buffer_of[h.rx.add({{addr, 64, true}})] = addr;  // the driver posts the buffer again
    h.kick_rx();
  }
  EXPECT_EQ(received, sent);
}

}  // namespace
}  // namespace kiln::virtio::test
