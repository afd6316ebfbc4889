// virtio-console identity, features and configuration space (cols, rows, max_nr_ports).
#include <gtest/gtest.h>

#include "virtio_console_test_util.h"

namespace kiln::virtio::test {
namespace {

ConsoleConfig read_all(ConsoleDevice& d) {
  ConsoleConfig c{};
  d.read_config(0, std::span(reinterpret_cast<uint8_t*>(&c), sizeof(c)));
  return c;
}

TEST(VirtioConsoleConfig, Identity) {
  ConsoleDevice d(nullptr);
  EXPECT_EQ(d.device_id(), 3u);
  EXPECT_EQ(d.name(), "console");
  EXPECT_EQ(d.num_queues(), 2);
  EXPECT_EQ(d.queue_max_size(0), ConsoleDevice::kQueueSize);
  EXPECT_NE(d.features() & feature(kConsoleFSize), 0u);
  EXPECT_EQ(d.features() & feature(kConsoleFMultiport), 0u);
}

TEST(VirtioConsoleConfig, DefaultSizeAndLayout) {
  ConsoleDevice d(nullptr);
  const ConsoleConfig c = read_all(d);
  EXPECT_EQ(c.cols, 80);
  EXPECT_EQ(c.rows, 25);
  EXPECT_EQ(c.max_nr_ports, 1u);
  // Field by field as a driver reads them: cols at 0, rows at 2 (little-endian), then zeros.
  uint16_t v = 0;
  d.read_config(2, std::span(reinterpret_cast<uint8_t*>(&v), 2));
  EXPECT_EQ(v, 25);
  uint8_t byte = 0xff;
  d.read_config(0, std::span(&byte, 1));
  EXPECT_EQ(byte, 80);
  uint8_t beyond[4] = {0xaa, 0xaa, 0xaa, 0xaa};
  d.read_config(6, beyond);  // the top of max_nr_ports, then past the end
  for (uint8_t b : beyond) EXPECT_EQ(b, 0);
  // Writes are ignored.
  const uint8_t junk[2] = {9, 9};
  d.write_config(0, junk);
  EXPECT_EQ(read_all(d).cols, 80);
}

TEST(VirtioConsoleConfig, HostSizeFromConstructor) {
  ConsoleDevice d(nullptr, {132, 43});
  EXPECT_EQ(read_all(d).cols, 132);
  EXPECT_EQ(read_all(d).rows, 43);
}

TEST(VirtioConsoleConfig, ResizeRaisesConfigInterrupt) {
  ConsoleHarness h({100, 30});
  h.device.set_size(120, 40);  // before DRIVER_OK: only the fields change
  EXPECT_EQ(h.interrupt.config.load(), 0);
  ASSERT_TRUE(h.activate());
  // Activation announces the size once (Linux reads it on a config interrupt only).
  EXPECT_EQ(h.interrupt.config.load(), 1);
  h.device.set_size(120, 40);  // no change: no interrupt
  EXPECT_EQ(h.interrupt.config.load(), 1);
  h.device.set_size(200, 50);
  EXPECT_EQ(h.interrupt.config.load(), 2);
  EXPECT_EQ(read_all(h.device).cols, 200);
  EXPECT_EQ(read_all(h.device).rows, 50);
  h.device.reset();
  h.device.set_size(10, 10);  // no driver: no interrupt, the fields still follow
  EXPECT_EQ(h.interrupt.config.load(), 2);
  EXPECT_EQ(read_all(h.device).cols, 10);
}

TEST(VirtioConsoleConfig, NoConfigInterruptWithoutSizeFeature) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate(feature(kFRingEventIdx)));
  h.device.set_size(99, 33);
  EXPECT_EQ(h.interrupt.config.load(), 0);
  EXPECT_EQ(read_all(h.device).cols, 99);
}

TEST(VirtioConsoleConfig, ResizeFromAnotherThreadWhileActive) {
  ConsoleHarness h({7, 7});
  ASSERT_TRUE(h.activate());
  std::thread winch([&] {
    for (uint16_t i = 1; i <= 200; ++i) h.device.set_size(i, i);
  });
  for (int i = 0; i < 200; ++i) {
    const ConsoleConfig c = read_all(h.device);
    EXPECT_EQ(c.cols, c.rows);  // a read never sees half an update
  }
  winch.join();
  EXPECT_EQ(h.interrupt.config.load(), 201);
}

}  // namespace
}  // namespace kiln::virtio::test
