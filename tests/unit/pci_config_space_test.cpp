// A type 0 configuration space (PCI Local Bus 3.0, 6.1-6.2): read-only header fields, the
// writable mask, BAR sizing with all-ones writes, Command decode enables, hostile offsets.
#include <gtest/gtest.h>

#include <vector>

#include "pci/config_space.h"

namespace kiln::pci {
namespace {

const Identity kId{0x1af4, 0x1001, 0, 0x010000, 0x1af4, 2, kPinA};

uint32_t read32(const ConfigSpace& c, uint64_t at) {
  uint8_t b[4];
  c.read(at, b);
  return static_cast<uint32_t>(b[0] | b[1] << 8 | b[2] << 16) | static_cast<uint32_t>(b[3]) << 24;
}
void write32(ConfigSpace& c, uint64_t at, uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 24)};
  c.write(at, b);
}

TEST(PciConfigSpace, HeaderFieldsAsGiven) {
  const ConfigSpace c(kId);
  EXPECT_EQ(read32(c, kVendorId), 0x10011af4u);
  EXPECT_EQ(read32(c, kCommand), 0u) << "Command and Status start at 0";
  EXPECT_EQ(read32(c, kRevisionId), 0x01000000u) << "class 01/00/00, revision 0";
  EXPECT_EQ(read32(c, 0x0c), 0u) << "header type 0, single function";
  EXPECT_EQ(read32(c, kSubsystemVendorId), 0x00021af4u);
  EXPECT_EQ(read32(c, kInterruptLine), 0x0100u) << "pin A, line 0";
  for (uint64_t at = 0x40; at < kConfigSize; at += 4) EXPECT_EQ(read32(c, at), 0u) << at;
}

TEST(PciConfigSpace, ReadOnlyFieldsIgnoreWrites) {
  ConfigSpace c(kId);
  for (uint64_t at = 0; at < kConfigSize; at += 4) {
    if (at == kCommand || at == kInterruptLine) continue;
    const uint32_t before = read32(c, at);
    write32(c, at, 0xffffffff);
    write32(c, at, 0);
    EXPECT_EQ(read32(c, at), before) << "offset " << at;
  }
  write32(c, kCommand, 0xffffffff);  // Status (the upper half) stays 0
  EXPECT_EQ(read32(c, kCommand), uint32_t{kCommandIo | kCommandMemory | kCommandBusMaster | kCommandIntxDisable});
  write32(c, kInterruptLine, 0xffffffff);  // only the line is writable
  EXPECT_EQ(read32(c, kInterruptLine), 0x01ffu);
  c.set_interrupt_line(10);
  EXPECT_EQ(read32(c, kInterruptLine) & 0xff, 10u);
}

TEST(PciConfigSpace, IoBarSizingProtocol) {
  ConfigSpace c(kId);
  ASSERT_TRUE(c.add_bar(0, BarKind::kIo, 0x100));
  ASSERT_TRUE(c.place_bar(0, 0xc100));
  EXPECT_EQ(read32(c, kBar0), 0xc101u) << "address | I/O space bit";
  write32(c, kBar0, 0xffffffff);
  EXPECT_EQ(read32(c, kBar0), 0xff01u) << "~(size - 1) over 16 decoded bits, type bit kept";
  write32(c, kBar0, 0xc100);
  EXPECT_EQ(read32(c, kBar0), 0xc101u);
  write32(c, kBar0, 0xc1ff);  // low bits inside the BAR do not stick
  EXPECT_EQ(read32(c, kBar0), 0xc101u);
  for (int i = 1; i < kNumBars; ++i) {  // absent BARs are hardwired to 0
    write32(c, kBar0 + 4 * i, 0xffffffff);
    EXPECT_EQ(read32(c, kBar0 + 4 * i), 0u) << i;
  }
}

TEST(PciConfigSpace, MemoryBarSizingProtocol) {
  ConfigSpace c(kId);
  ASSERT_TRUE(c.add_bar(2, BarKind::kMemory32, 0x4000));
  ASSERT_TRUE(c.place_bar(2, 0xc0004000));
  EXPECT_EQ(read32(c, kBar0 + 8), 0xc0004000u) << "32-bit, not prefetchable";
  write32(c, kBar0 + 8, 0xffffffff);
  EXPECT_EQ(read32(c, kBar0 + 8), 0xffffc000u);
  EXPECT_EQ(c.bar_address(2), 0xffffc000u);
}

TEST(PciConfigSpace, CommandEnablesDecoding) {
  ConfigSpace c(kId);
  ASSERT_TRUE(c.add_bar(0, BarKind::kIo, 0x100));
  ASSERT_TRUE(c.add_bar(1, BarKind::kMemory32, 0x1000));
  ASSERT_TRUE(c.place_bar(0, 0xc000));
  ASSERT_TRUE(c.place_bar(1, 0xc0000000));
  EXPECT_FALSE(c.decoded_bar(0));
  EXPECT_FALSE(c.decoded_bar(1));
  write32(c, kCommand, kCommandIo);
  EXPECT_EQ(c.decoded_bar(0), 0xc000u);
  EXPECT_FALSE(c.decoded_bar(1));
  write32(c, kCommand, kCommandMemory);
  EXPECT_FALSE(c.decoded_bar(0));
  EXPECT_EQ(c.decoded_bar(1), 0xc0000000u);
  write32(c, kBar0 + 4, 0);  // an address of 0 decodes nothing
  EXPECT_FALSE(c.decoded_bar(1));
  EXPECT_FALSE(c.decoded_bar(5));
  EXPECT_FALSE(c.decoded_bar(-1));
  EXPECT_FALSE(c.decoded_bar(6));
}

TEST(PciConfigSpace, BadBarsAreRefused) {
  ConfigSpace c(kId);
  EXPECT_FALSE(c.add_bar(6, BarKind::kIo, 0x100));
  EXPECT_FALSE(c.add_bar(-1, BarKind::kIo, 0x100));
  EXPECT_FALSE(c.add_bar(0, BarKind::kIo, 0x180)) << "not a power of two";
  EXPECT_FALSE(c.add_bar(0, BarKind::kIo, 2)) << "below 4 bytes";
  EXPECT_FALSE(c.add_bar(0, BarKind::kIo, 0x20000)) << "beyond 64 KiB of ports";
  EXPECT_FALSE(c.add_bar(0, BarKind::kMemory32, 8)) << "below 16 bytes";
  ASSERT_TRUE(c.add_bar(0, BarKind::kIo, 0x100));
  EXPECT_FALSE(c.add_bar(0, BarKind::kIo, 0x100)) << "taken";
  EXPECT_FALSE(c.place_bar(0, 0xc010)) << "misaligned";
  EXPECT_FALSE(c.place_bar(0, 0xff80)) << "past port 0xffff";
  EXPECT_FALSE(c.place_bar(1, 0xc000)) << "not declared";
}

TEST(PciConfigSpace, HostileOffsetsAndSizesNeverCrash) {
  ConfigSpace c(kId);
  ASSERT_TRUE(c.add_bar(0, BarKind::kIo, 0x100));
  std::vector<uint8_t> big(600, 0xab);
  c.write(0, big);  // every byte through the mask; nothing past 256
  EXPECT_EQ(read32(c, kVendorId), 0x10011af4u);
  c.read(0, big);
  EXPECT_EQ(big[300], 0xff) << "beyond the 256 bytes: all ones";
  uint8_t b[4] = {1, 2, 3, 4};
  c.read(254, b);
  EXPECT_EQ(b[2], 0xff);
  c.read(~uint64_t{0} - 1, b);  // offset + size wraps
  EXPECT_EQ(b[0], 0xff);
  c.write(~uint64_t{0} - 1, b);
  c.read(7, std::span<uint8_t>());
}

}  // namespace
}  // namespace kiln::pci
