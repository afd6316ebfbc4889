// The quiet ports: fixed reads, ignored writes, and the standard set fitting around kiln's devices.
#include <gtest/gtest.h>

#include <memory>

#include "devices/bus.h"
#include "devices/quiet_ports.h"

namespace kiln {
namespace {

TEST(QuietPorts, ReadFixedValueAndIgnoreWrites) {
  QuietPorts ff;
  QuietPorts zero(0x00);
  uint8_t data[4] = {1, 2, 3, 4};
  ff.read(0, data);
  for (uint8_t b : data) EXPECT_EQ(b, 0xff);
  zero.read(3, std::span(data, 2));
  EXPECT_EQ(data[0], 0);
  EXPECT_EQ(data[1], 0);
  EXPECT_EQ(data[2], 0xff);
  ff.write(0, data);
  ff.read(0, std::span(data, 1));
  EXPECT_EQ(data[0], 0xff);
}

TEST(QuietPorts, StandardSetFitsAroundTheRealDevices) {
  Bus bus;
  ASSERT_TRUE(add_quiet_ports(bus));
  EXPECT_EQ(bus.entries().size(), standard_quiet_ranges().size());
  auto dev = std::make_shared<QuietPorts>();
  EXPECT_TRUE(bus.add(0x3f8, 8, dev, "COM1"));
  EXPECT_TRUE(bus.add(0x60, 5, dev, "i8042"));
  EXPECT_TRUE(bus.add(0xcf8, 8, dev, "pci"));
  EXPECT_TRUE(bus.add(0x40, 4, dev, "PIT"));
  EXPECT_TRUE(bus.add(0x70, 2, dev, "RTC"));
  // An absent COM2 fails Linux's IER test: IER reads 0x0f after writing 0.
  uint8_t v = 0;
  ASSERT_TRUE(bus.write(0x2f9, std::span(&v, 1)));
  ASSERT_TRUE(bus.read(0x2f9, std::span(&v, 1)));
  EXPECT_NE(v & 0x0f, 0);
  uint8_t post = 0x55;
  EXPECT_TRUE(bus.write(0x80, std::span(&post, 1)));
  EXPECT_FALSE(add_quiet_ports(bus));  // twice overlaps
}

}  // namespace
}  // namespace kiln
