#include <gtest/gtest.h>

#include <memory>

#include "devices/bus.h"
#include "devices/pci_absent.h"
#include "devices/quiet_ports.h"

namespace kiln {
namespace {

class PciAbsentTest : public testing::Test {
 protected:
  PciAbsentTest() { EXPECT_TRUE(bus_.add(PciAbsent::kBase, PciAbsent::kLength, dev_, "pci")); }
  uint32_t in(uint16_t port, size_t size) {
    uint8_t b[4] = {0, 0, 0, 0};
    EXPECT_TRUE(bus_.read(port, std::span(b, size)));
    uint32_t v = 0;
    for (size_t i = 0; i < size; ++i) v |= static_cast<uint32_t>(b[i]) << (8 * i);
    return v;
  }
  void out(uint16_t port, uint32_t v, size_t size) {
    uint8_t b[4];
    for (size_t i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    EXPECT_TRUE(bus_.write(port, std::span(b, size)));
  }

  int resets_ = 0;
  std::shared_ptr<PciAbsent> dev_ = std::make_shared<PciAbsent>([this] { ++resets_; });
  Bus bus_;
};

TEST_F(PciAbsentTest, AddressLatchReadsBack) {
  EXPECT_EQ(in(0xcf8, 4), 0u);
  out(0xcf8, 0x80001808, 4);  // bus 0, device 3, function 0, register 8
  EXPECT_EQ(in(0xcf8, 4), 0x80001808u);
  out(0xcf8, 0xffffffff, 4);  // reserved bits 30:24 and 1:0 read as 0
  EXPECT_EQ(in(0xcf8, 4), 0x80fffffcu);
}

TEST_F(PciAbsentTest, DataReadsAllOnesAtEveryWidthAndOffset) {
  out(0xcf8, 0x80000000, 4);
  EXPECT_EQ(in(0xcfc, 4), 0xffffffffu);
  EXPECT_EQ(in(0xcfc, 2), 0xffffu);
  EXPECT_EQ(in(0xcfe, 2), 0xffffu);
  for (uint16_t p = 0xcfc; p <= 0xcff; ++p) EXPECT_EQ(in(p, 1), 0xffu) << p;
  out(0xcfc, 0x12345678, 4);  // ignored
  out(0xcfd, 0x12, 1);
  EXPECT_EQ(in(0xcfc, 4), 0xffffffffu);
  out(0xcf8, 0, 4);  // disabled: still nothing there
  EXPECT_EQ(in(0xcfc, 4), 0xffffffffu);
  EXPECT_EQ(resets_, 0);
}

TEST_F(PciAbsentTest, LinuxType1CheckPassesAndRestores) {
  // arch/x86/pci/direct.c, pci_check_type1.
  out(0xcfb, 0x01, 1);
  const uint32_t tmp = in(0xcf8, 4);
  out(0xcf8, 0x80000000, 4);
  EXPECT_EQ(in(0xcf8, 4), 0x80000000u);
  out(0xcf8, tmp, 4);
  EXPECT_EQ(in(0xcf8, 4), tmp);
  // ...and its sanity check reads vendor/class words through 0xcfc/0xcfe: no host bridge, no Intel.
  out(0xcf8, 0x80000008, 4);
  EXPECT_EQ(in(0xcfe, 2), 0xffffu);
}

TEST_F(PciAbsentTest, NarrowAccessesMissTheAddressRegister) {
  out(0xcf8, 0x80000010, 4);
  out(0xcf8, 0x00, 1);  // pci_check_type2 pokes bytes here
  out(0xcfa, 0x00, 1);
  EXPECT_EQ(in(0xcf8, 1), 0xffu);  // so type 2 is not detected
  EXPECT_EQ(in(0xcfa, 1), 0xffu);
  EXPECT_EQ(in(0xcf8, 2), 0xffffu);
  EXPECT_EQ(in(0xcf8, 4), 0x80000010u);
}

TEST_F(PciAbsentTest, ResetControlRegister) {
  out(0xcf9, 0x02, 1);  // Linux reboot=pci: first "hard reset" without the reset bit
  EXPECT_EQ(resets_, 0);
  out(0xcf9, 0x06, 1);
  EXPECT_EQ(resets_, 1);
  out(0xcf8, 0x00000400, 4);  // a dword write at 0xcf8 is CONFIG_ADDRESS, not 0xcf9
  EXPECT_EQ(resets_, 1);
  PciAbsent no_callback;
  const uint8_t v = 0x06;
  no_callback.write(1, std::span(&v, 1));  // no callback: nothing happens
}

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
