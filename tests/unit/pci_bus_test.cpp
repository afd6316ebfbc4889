// PCI bus 0 through configuration mechanism #1 and its windows: the host bridge at 00:00.0, BARs
// kiln places, BAR accesses routed while decoding is on, decode changes reported, empty slots,
// other functions and buses reading all ones.
#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "devices/bus.h"
#include "pci/config_io.h"
#include "pci/pci_bus.h"
#include "snapshot/codec.h"

namespace kiln::pci {
namespace {

// A function with one I/O BAR and one memory BAR that records BAR accesses.
class FakeFunction final : public PciDevice {
 public:
  FakeFunction() : config_(Identity{0x1234, 0x5678, 1, 0xff0000, 0, 0, kPinA}) {
    EXPECT_TRUE(config_.add_bar(0, BarKind::kIo, 0x40));
    EXPECT_TRUE(config_.add_bar(1, BarKind::kMemory32, 0x1000));
  }
  ConfigSpace& config() override { return config_; }
  void bar_read(int bar, uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(bar * 0x10 + offset + i);
  }
  void bar_write(int bar, uint64_t offset, std::span<const uint8_t> data) override {
    writes.emplace_back(bar, offset, data.size());
  }
  std::vector<std::tuple<int, uint64_t, size_t>> writes;

 private:
  ConfigSpace config_;
};

class PciBusTest : public ::testing::Test {
 protected:
  PciBusTest() {
    EXPECT_TRUE(ports.add(ConfigIo::kBase, ConfigIo::kLength, std::make_shared<ConfigIo>(std::function<void()>{}, bus),
                          "pci"));
    EXPECT_TRUE(ports.add(0xc000, 0x4000, PciBus::window_device(bus, BarKind::kIo), "pci io"));
    EXPECT_TRUE(memory.add(0xc0000000, 0x10000000, PciBus::window_device(bus, BarKind::kMemory32), "pci mem"));
  }
  uint32_t cfg_read(uint32_t dev, uint32_t reg, uint32_t fn = 0, uint32_t busno = 0) {
    out32(0xcf8, 0x80000000u | busno << 16 | dev << 11 | fn << 8 | reg);
    return in32(0xcfc);
  }
  void cfg_write(uint32_t dev, uint32_t reg, uint32_t v) {
    out32(0xcf8, 0x80000000u | dev << 11 | reg);
    out32(0xcfc, v);
  }
  uint32_t in32(uint64_t port) {
    uint8_t b[4] = {};
    EXPECT_TRUE(ports.read(port, b));
    return static_cast<uint32_t>(b[0] | b[1] << 8 | b[2] << 16) | static_cast<uint32_t>(b[3]) << 24;
  }
  void out32(uint64_t port, uint32_t v) {
    const uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
                          static_cast<uint8_t>(v >> 24)};
    EXPECT_TRUE(ports.write(port, b));
  }

  std::shared_ptr<PciBus> bus = std::make_shared<PciBus>(Window{0xc000, 0x4000}, Window{0xc0000000, 0x10000000});
  Bus ports;
  Bus memory;
};

TEST_F(PciBusTest, HostBridgeAtSlotZero) {
  EXPECT_EQ(cfg_read(0, 0), uint32_t{PciBus::kHostBridgeDevice} << 16 | PciBus::kHostBridgeVendor);
  EXPECT_EQ(cfg_read(0, 8) >> 8, 0x060000u) << "class: host bridge";
  EXPECT_EQ(cfg_read(0, 0x0c) >> 16 & 0xff, 0u) << "type 0, single function";
  EXPECT_EQ(cfg_read(1, 0), 0xffffffffu) << "empty slot";
}

TEST_F(PciBusTest, EmptySlotsOtherFunctionsAndBusesReadAllOnes) {
  auto fn = std::make_shared<FakeFunction>();
  ASSERT_EQ(bus->add(fn), 1u);
  EXPECT_EQ(cfg_read(1, 0), 0x56781234u);
  EXPECT_EQ(cfg_read(1, 0, 1), 0xffffffffu) << "function 1";
  EXPECT_EQ(cfg_read(1, 0, 0, 1), 0xffffffffu) << "bus 1";
  EXPECT_EQ(cfg_read(31, 0), 0xffffffffu);
  cfg_write(2, 0x04, 0xffff);  // nothing there: ignored
  out32(0xcf8, 0x00000800);    // enable bit clear: no configuration cycle
  EXPECT_EQ(in32(0xcfc), 0xffffffffu);
}

TEST_F(PciBusTest, BarsPlacedInTheWindowsAndSizedByTheGuest) {
  auto a = std::make_shared<FakeFunction>();
  auto b = std::make_shared<FakeFunction>();
  ASSERT_EQ(bus->add(a), 1u);
  ASSERT_EQ(bus->add(b), 2u);
  EXPECT_EQ(cfg_read(1, 0x10), 0xc001u);
  EXPECT_EQ(cfg_read(2, 0x10), 0xc041u);
  EXPECT_EQ(cfg_read(1, 0x14), 0xc0000000u);
  EXPECT_EQ(cfg_read(2, 0x14), 0xc0001000u);
  cfg_write(2, 0x14, 0xffffffff);
  EXPECT_EQ(cfg_read(2, 0x14), 0xfffff000u);
  cfg_write(2, 0x14, 0xc0001000);
  EXPECT_EQ(cfg_read(2, 0x14), 0xc0001000u);
}

TEST_F(PciBusTest, BarAccessesOnlyWhileDecoding) {
  auto fn = std::make_shared<FakeFunction>();
  ASSERT_TRUE(bus->add(fn));
  uint8_t b[2] = {};
  EXPECT_EQ(in32(0xc000), 0xffffffffu) << "I/O decoding off after reset";
  cfg_write(1, 0x04, kCommandIo);
  EXPECT_EQ(in32(0xc004), 0x07060504u);
  ASSERT_TRUE(ports.write(0xc03e, b));
  ASSERT_EQ(fn->writes.size(), 1u);
  EXPECT_EQ(fn->writes[0], std::make_tuple(0, uint64_t{0x3e}, size_t{2}));
  EXPECT_EQ(in32(0xc03e), 0xffffffffu) << "straddles the BAR's end";
  EXPECT_FALSE(bus->read(BarKind::kMemory32, 0xc0000000, b)) << "memory decoding off";
  cfg_write(1, 0x04, kCommandMemory);
  EXPECT_TRUE(bus->read(BarKind::kMemory32, 0xc0000ffe, b));
  EXPECT_EQ(b[0], static_cast<uint8_t>(0x10 + 0xffe)) << "BAR 1 at offset 0xffe";
  EXPECT_FALSE(bus->read(BarKind::kIo, 0xc000, b));
  EXPECT_TRUE(memory.read(0xc0001000, b)) << "the window answers, with all ones";
  EXPECT_EQ(b[0], 0xff);
}

TEST_F(PciBusTest, GuestMovesABarAndTheListenerHears) {
  auto fn = std::make_shared<FakeFunction>();
  std::vector<std::tuple<int, std::optional<uint64_t>, std::optional<uint64_t>>> heard;
  ASSERT_TRUE(bus->add(fn, [&](int bar, std::optional<uint64_t> old, std::optional<uint64_t> now) {
    heard.emplace_back(bar, old, now);
  }));
  cfg_write(1, 0x04, kCommandIo);
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0], std::make_tuple(0, std::optional<uint64_t>{}, std::optional<uint64_t>{0xc000}));
  cfg_write(1, 0x10, 0xd000);
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[1], std::make_tuple(0, std::optional<uint64_t>{0xc000}, std::optional<uint64_t>{0xd000}));
  EXPECT_EQ(in32(0xd000), 0x03020100u);
  EXPECT_EQ(in32(0xc000), 0xffffffffu);
  cfg_write(1, 0x3c, 9);  // no decode change: nothing heard
  cfg_write(1, 0x04, 0);
  ASSERT_EQ(heard.size(), 3u);
  EXPECT_EQ(heard[2], std::make_tuple(0, std::optional<uint64_t>{0xd000}, std::optional<uint64_t>{}));
}

TEST_F(PciBusTest, FullBusAndFullWindowAreErrors) {
  PciBus small(Window{0xc000, 0x40}, Window{0xc0000000, 0x1000});
  EXPECT_TRUE(small.add(std::make_shared<FakeFunction>()));
  auto second = small.add(std::make_shared<FakeFunction>());
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("window"), std::string::npos) << second.error().message;
  PciBus big(Window{0, 0x10000}, Window{0x80000000, 0x40000000});
  for (uint32_t i = 1; i < PciBus::kSlots; ++i) ASSERT_TRUE(big.add(std::make_shared<FakeFunction>())) << i;
  EXPECT_FALSE(big.add(std::make_shared<FakeFunction>()));
}

TEST_F(PciBusTest, NarrowConfigAccessesReachTheRightBytes) {
  auto fn = std::make_shared<FakeFunction>();
  ASSERT_TRUE(bus->add(fn));
  out32(0xcf8, 0x80000800);  // 01:00.0 register 0
  uint8_t b[2] = {};
  ASSERT_TRUE(ports.read(0xcfe, b));  // device ID through the upper half
  EXPECT_EQ(b[0] | b[1] << 8, 0x5678);
  ASSERT_TRUE(ports.read(0xcfd, std::span(b, 1)));
  EXPECT_EQ(b[0], 0x12);
}

// Snapshot state: the guest's BAR placement and Command come back, listeners hear the BAR that
// decodes again; a snapshot of another bus, or with a read-only byte changed, is refused whole.
TEST_F(PciBusTest, StateRoundTripAndRefusals) {
  auto fn = std::make_shared<FakeFunction>();
  ASSERT_TRUE(bus->add(fn));
  cfg_write(1, 0x10, 0xd000);
  cfg_write(1, 0x04, kCommandIo | kCommandBusMaster);
  cfg_write(1, 0x3c, 11);
  snapshot::Encoder out;
  bus->save_state(out);
  const std::vector<uint8_t> saved = out.take();

  auto fresh = std::make_shared<PciBus>(Window{0xc000, 0x4000}, Window{0xc0000000, 0x10000000});
  std::vector<std::pair<int, std::optional<uint64_t>>> heard;
  auto fn2 = std::make_shared<FakeFunction>();
  ASSERT_TRUE(fresh->add(fn2, [&](int bar, std::optional<uint64_t>, std::optional<uint64_t> now) {
    heard.emplace_back(bar, now);
  }));
  snapshot::Decoder in(saved, "pci");
  ASSERT_TRUE(fresh->restore_state(in));
  EXPECT_TRUE(in.finish());
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0], std::make_pair(0, std::optional<uint64_t>{0xd000}));
  EXPECT_EQ(fn2->config().decoded_bar(0), 0xd000u);
  EXPECT_EQ(fn2->config().command(), kCommandIo | kCommandBusMaster);
  uint8_t b[4];
  EXPECT_TRUE(fresh->read(BarKind::kIo, 0xd000, b));

  PciBus empty(Window{0xc000, 0x4000}, Window{0xc0000000, 0x10000000});
  snapshot::Decoder in2(saved, "pci");
  auto r = empty.restore_state(in2);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("slot 1"), std::string::npos) << r.error().message;

  std::vector<uint8_t> tampered = saved;
  // Slot 1's 256 bytes come last but for the presence bytes of the 30 empty slots after it.
  const size_t slot1_vendor = tampered.size() - 30 - kConfigSize;
  tampered[slot1_vendor] ^= 1;
  auto other = std::make_shared<PciBus>(Window{0xc000, 0x4000}, Window{0xc0000000, 0x10000000});
  auto fn3 = std::make_shared<FakeFunction>();
  ASSERT_TRUE(other->add(fn3));
  snapshot::Decoder in3(tampered, "pci");
  auto t = other->restore_state(in3);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("read-only configuration byte 0x0"), std::string::npos) << t.error().message;
  EXPECT_EQ(fn3->config().bar_address(0), 0xc000u) << "nothing restored";

  for (size_t cut = 0; cut < saved.size(); cut += 7) {  // truncated anywhere: an error, never a crash
    snapshot::Decoder short_in(std::span(saved.data(), cut), "pci");
    EXPECT_FALSE(other->restore_state(short_in)) << cut;
  }
}

}  // namespace
}  // namespace kiln::pci
