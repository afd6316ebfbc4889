// Configuration mechanism #1 without a bus behind it (kiln's virtio-mmio machine) and with one.
#include <gtest/gtest.h>

#include <memory>

#include "devices/bus.h"
#include "pci/config_io.h"

namespace kiln {
namespace {

class PciConfigIoAbsent : public testing::Test {
 protected:
  PciConfigIoAbsent() { EXPECT_TRUE(bus_.add(pci::ConfigIo::kBase, pci::ConfigIo::kLength, dev_, "pci")); }
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
  std::shared_ptr<pci::ConfigIo> dev_ = std::make_shared<pci::ConfigIo>([this] { ++resets_; });
  Bus bus_;
};

TEST_F(PciConfigIoAbsent, AddressLatchReadsBack) {
  EXPECT_EQ(in(0xcf8, 4), 0u);
  out(0xcf8, 0x80001808, 4);  // bus 0, device 3, function 0, register 8
  EXPECT_EQ(in(0xcf8, 4), 0x80001808u);
  out(0xcf8, 0xffffffff, 4);  // reserved bits 30:24 and 1:0 read as 0
  EXPECT_EQ(in(0xcf8, 4), 0x80fffffcu);
}

TEST_F(PciConfigIoAbsent, DataReadsAllOnesAtEveryWidthAndOffset) {
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

TEST_F(PciConfigIoAbsent, LinuxType1CheckPassesAndRestores) {
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

TEST_F(PciConfigIoAbsent, NarrowAccessesMissTheAddressRegister) {
  out(0xcf8, 0x80000010, 4);
  out(0xcf8, 0x00, 1);  // pci_check_type2 pokes bytes here
  out(0xcfa, 0x00, 1);
  EXPECT_EQ(in(0xcf8, 1), 0xffu);  // so type 2 is not detected
  EXPECT_EQ(in(0xcfa, 1), 0xffu);
  EXPECT_EQ(in(0xcf8, 2), 0xffffu);
  EXPECT_EQ(in(0xcf8, 4), 0x80000010u);
}

TEST_F(PciConfigIoAbsent, ResetControlRegister) {
  out(0xcf9, 0x02, 1);  // Linux reboot=pci: first "hard reset" without the reset bit
  EXPECT_EQ(resets_, 0);
  out(0xcf9, 0x06, 1);
  EXPECT_EQ(resets_, 1);
  out(0xcf8, 0x00000400, 4);  // a dword write at 0xcf8 is CONFIG_ADDRESS, not 0xcf9
  EXPECT_EQ(resets_, 1);
  pci::ConfigIo no_callback;
  const uint8_t v = 0x06;
  no_callback.write(1, std::span(&v, 1));  // no callback: nothing happens
}

}  // namespace
}  // namespace kiln
