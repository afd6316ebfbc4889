#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "devices/bus.h"

namespace kiln {
namespace {

// Records every access and answers reads with a fixed pattern.
class RecordingDevice : public BusDevice {
 public:
  struct Access {
    bool write;
    uint64_t offset;
    std::vector<uint8_t> data;
  };
  explicit RecordingDevice(uint8_t fill) : fill_(fill) {}
  void read(uint64_t offset, std::span<uint8_t> data) override {
    std::fill(data.begin(), data.end(), fill_);
    log.push_back({false, offset, std::vector<uint8_t>(data.begin(), data.end())});
  }
  void write(uint64_t offset, std::span<const uint8_t> data) override {
    log.push_back({true, offset, std::vector<uint8_t>(data.begin(), data.end())});
  }
  std::vector<Access> log;

 private:
  uint8_t fill_;
};

TEST(DevicesBus, RejectsOverlapsInEveryArrangement) {
  Bus bus;
  auto dev = std::make_shared<RecordingDevice>(0);
  ASSERT_TRUE(bus.add(0x100, 0x10, dev, "a"));  // [0x100, 0x10f]
  EXPECT_FALSE(bus.add(0x100, 0x10, dev, "same"));
  EXPECT_FALSE(bus.add(0xf8, 0x9, dev, "into start"));   // ends at 0x100
  EXPECT_FALSE(bus.add(0x10f, 0x4, dev, "from end"));    // starts at 0x10f
  EXPECT_FALSE(bus.add(0x104, 0x2, dev, "inside"));
  EXPECT_FALSE(bus.add(0x0, 0x1000, dev, "around"));
  EXPECT_TRUE(bus.add(0xf0, 0x10, dev, "just below"));   // ends at 0xff
  EXPECT_TRUE(bus.add(0x110, 0x10, dev, "just above"));  // starts at 0x110
  EXPECT_FALSE(bus.add(0xe0, 0x40, dev, "over two"));
  auto err = bus.add(0x108, 1, dev, "late");
  ASSERT_FALSE(err);
  EXPECT_NE(err.error().message.find("overlaps a"), std::string::npos) << err.error().message;
  EXPECT_EQ(bus.entries().size(), 3u);
}

TEST(DevicesBus, RejectsEmptyWrappingAndNullRanges) {
  Bus bus;
  auto dev = std::make_shared<RecordingDevice>(0);
  EXPECT_FALSE(bus.add(0x10, 0, dev, "empty"));
  EXPECT_FALSE(bus.add(UINT64_MAX, 2, dev, "wraps"));
  EXPECT_FALSE(bus.add(0x10, 1, nullptr, "null"));
  EXPECT_TRUE(bus.add(UINT64_MAX - 0xf, 0x10, dev, "top"));  // ends exactly at 2^64 - 1
  EXPECT_TRUE(bus.entries().size() == 1);
}

TEST(DevicesBus, DispatchesToTheRightDeviceWithOffsets) {
  Bus bus;
  auto a = std::make_shared<RecordingDevice>(0xaa);
  auto b = std::make_shared<RecordingDevice>(0xbb);
  ASSERT_TRUE(bus.add(0x3f8, 8, b, "b"));  // added out of order on purpose
  ASSERT_TRUE(bus.add(0x60, 5, a, "a"));

  uint8_t byte = 0;
  EXPECT_TRUE(bus.read(0x64, std::span(&byte, 1)));
  EXPECT_EQ(byte, 0xaa);
  const uint8_t out[2] = {1, 2};
  EXPECT_TRUE(bus.write(0x3fe, out));

  ASSERT_EQ(a->log.size(), 1u);
  EXPECT_FALSE(a->log[0].write);
  EXPECT_EQ(a->log[0].offset, 4u);
  ASSERT_EQ(b->log.size(), 1u);
  EXPECT_TRUE(b->log[0].write);
  EXPECT_EQ(b->log[0].offset, 6u);
  EXPECT_EQ(b->log[0].data, (std::vector<uint8_t>{1, 2}));
}

TEST(DevicesBus, MissesReturnFalseAndTouchNothing) {
  Bus bus;
  auto dev = std::make_shared<RecordingDevice>(0x11);
  ASSERT_TRUE(bus.add(0x100, 0x10, dev, "a"));
  ASSERT_TRUE(bus.add(0x200, 0x10, dev, "b"));
  uint8_t data[4] = {0x5a, 0x5a, 0x5a, 0x5a};
  for (uint64_t addr : std::initializer_list<uint64_t>{0x0, 0xff, 0x110, 0x1ff, 0x210, UINT64_MAX}) {
    EXPECT_FALSE(bus.read(addr, std::span(data, 1))) << addr;
    EXPECT_FALSE(bus.write(addr, std::span(data, 1))) << addr;
  }
  EXPECT_EQ(data[0], 0x5a);
  EXPECT_TRUE(dev->log.empty());
  EXPECT_FALSE(bus.read(0x100, std::span(data, 0)));  // empty access
  EXPECT_EQ(bus.find(0x1ff), nullptr);
  EXPECT_EQ(Bus().find(0), nullptr);
}

TEST(DevicesBus, BoundariesAndStraddlingAccesses) {
  Bus bus;
  auto a = std::make_shared<RecordingDevice>(0xaa);
  auto b = std::make_shared<RecordingDevice>(0xbb);
  ASSERT_TRUE(bus.add(0xcf8, 4, a, "a"));  // [0xcf8, 0xcfb]
  ASSERT_TRUE(bus.add(0xcfc, 4, b, "b"));  // [0xcfc, 0xcff]
  uint8_t data[4] = {};
  EXPECT_TRUE(bus.read(0xcf8, std::span(data, 4)));   // first byte, full width
  EXPECT_TRUE(bus.read(0xcfb, std::span(data, 1)));   // last byte of a
  EXPECT_TRUE(bus.read(0xcfc, std::span(data, 1)));   // first byte of b
  EXPECT_TRUE(bus.read(0xcfe, std::span(data, 2)));   // ends on b's last byte
  EXPECT_FALSE(bus.read(0xcfa, std::span(data, 4)));  // crosses from a into b
  EXPECT_FALSE(bus.read(0xcfe, std::span(data, 4)));  // runs past b
  ASSERT_EQ(a->log.size(), 2u);
  EXPECT_EQ(a->log[1].offset, 3u);
  ASSERT_EQ(b->log.size(), 2u);
  EXPECT_EQ(b->log[0].offset, 0u);
  EXPECT_EQ(b->log[1].offset, 2u);
  ASSERT_NE(bus.find(0xcfb), nullptr);
  EXPECT_EQ(bus.find(0xcfb)->name, "a");
  EXPECT_EQ(bus.find(0xcfc)->name, "b");
}

TEST(DevicesBus, TopOfAddressSpace) {
  Bus bus;
  auto dev = std::make_shared<RecordingDevice>(0x77);
  ASSERT_TRUE(bus.add(UINT64_MAX - 7, 8, dev, "top"));
  uint8_t data[8] = {};
  EXPECT_TRUE(bus.read(UINT64_MAX - 7, data));
  EXPECT_TRUE(bus.read(UINT64_MAX, std::span(data, 1)));
  EXPECT_FALSE(bus.read(UINT64_MAX, std::span(data, 2)));  // would wrap
  EXPECT_EQ(dev->log.back().offset, 7u);
}

TEST(DevicesBus, OneDeviceAtSeveralRanges) {
  Bus bus;
  auto dev = std::make_shared<RecordingDevice>(0);
  ASSERT_TRUE(bus.add(0x60, 1, dev, "x"));
  ASSERT_TRUE(bus.add(0x64, 1, dev, "y"));
  const uint8_t v = 1;
  EXPECT_TRUE(bus.write(0x64, std::span(&v, 1)));
  EXPECT_FALSE(bus.write(0x62, std::span(&v, 1)));
  ASSERT_EQ(dev->log.size(), 1u);
  EXPECT_EQ(dev->log[0].offset, 0u);
}

}  // namespace
}  // namespace kiln
