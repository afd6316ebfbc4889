#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "devices/bus.h"
#include "devices/i8042.h"
#include "devices/irq.h"

namespace kiln {
namespace {

class I8042Test : public testing::Test {
 protected:
  I8042Test() { EXPECT_TRUE(bus_.add(I8042::kBase, I8042::kLength, dev_, "i8042")); }
  uint8_t inb(uint16_t port) {
    uint8_t b = 0;
    EXPECT_TRUE(bus_.read(port, std::span(&b, 1)));
    return b;
  }
  void outb(uint16_t port, uint8_t v) { EXPECT_TRUE(bus_.write(port, std::span(&v, 1))); }

  int resets_ = 0;
  std::shared_ptr<I8042> dev_ = std::make_shared<I8042>([this] { ++resets_; });
  Bus bus_;
};

TEST_F(I8042Test, StatusAlwaysShowsAnEmptyInputBuffer) {
  const uint8_t status = inb(0x64);
  EXPECT_EQ(status & I8042::kStatusInputFull, 0);
  EXPECT_EQ(status & I8042::kStatusOutputFull, 0);
  EXPECT_EQ(status & I8042::kStatusSystemFlag, I8042::kStatusSystemFlag);
  EXPECT_EQ(status & I8042::kStatusNotInhibited, I8042::kStatusNotInhibited);
  outb(0x64, 0x20);
  EXPECT_EQ(inb(0x64) & I8042::kStatusInputFull, 0);
  EXPECT_EQ(inb(0x64) & I8042::kStatusLastWasCommand, I8042::kStatusLastWasCommand);
  outb(0x60, 0x00);  // a byte for the absent keyboard
  EXPECT_EQ(inb(0x64) & (I8042::kStatusInputFull | I8042::kStatusLastWasCommand), 0);
}

TEST_F(I8042Test, ResetCommandCallsTheCallback) {
  // arch/x86/kernel/reboot.c, BOOT_KBD: wait for the input buffer to drain, then write 0xfe to 0x64.
  int spins = 0;
  while ((inb(0x64) & 0x02) != 0 && spins < 0x10000) ++spins;
  EXPECT_EQ(spins, 0);
  outb(0x64, 0xfe);
  EXPECT_EQ(resets_, 1);
  outb(0x64, 0xff);  // pulses no line
  EXPECT_EQ(resets_, 1);
  outb(0x64, 0xf0);  // pulses all four lines, reset included
  EXPECT_EQ(resets_, 2);
  outb(0x64, 0xfd);  // bit 0 set: not the reset line
  EXPECT_EQ(resets_, 2);
}

TEST_F(I8042Test, OutputPortWriteCanReset) {
  outb(0x64, 0xd0);
  EXPECT_EQ(inb(0x60), 0x03);
  outb(0x64, 0xd1);
  outb(0x60, 0x03);
  EXPECT_EQ(resets_, 0);
  outb(0x64, 0xd1);
  outb(0x60, 0x02);  // reset line low
  EXPECT_EQ(resets_, 1);
}

TEST_F(I8042Test, ConfigByteReadsAndWrites) {
  outb(0x64, 0x20);
  EXPECT_EQ(inb(0x64) & I8042::kStatusOutputFull, I8042::kStatusOutputFull);
  EXPECT_EQ(inb(0x60), I8042::kDefaultCtr);
  EXPECT_EQ(inb(0x64) & I8042::kStatusOutputFull, 0);

  outb(0x64, 0x60);
  outb(0x60, 0x74);
  outb(0x64, 0x20);
  EXPECT_EQ(inb(0x60), 0x74);
  // Linux reads the CTR until two reads agree.
  outb(0x64, 0x20);
  const uint8_t a = inb(0x60);
  outb(0x64, 0x20);
  EXPECT_EQ(inb(0x60), a);
  // The status system flag follows CTR bit 2.
  EXPECT_EQ(inb(0x64) & I8042::kStatusSystemFlag, I8042::kStatusSystemFlag);
  outb(0x64, 0x60);
  outb(0x60, 0x00);
  EXPECT_EQ(inb(0x64) & I8042::kStatusSystemFlag, 0);
}

TEST_F(I8042Test, InterfaceEnableBitsFollowCommands) {
  outb(0x64, 0xad);
  outb(0x64, 0xa7);
  outb(0x64, 0x20);
  EXPECT_EQ(inb(0x60) & (I8042::kCtrKbdDisable | I8042::kCtrAuxDisable),
            I8042::kCtrKbdDisable | I8042::kCtrAuxDisable);
  outb(0x64, 0xae);
  outb(0x64, 0xa8);
  outb(0x64, 0x20);
  EXPECT_EQ(inb(0x60) & (I8042::kCtrKbdDisable | I8042::kCtrAuxDisable), 0);
}

TEST_F(I8042Test, SelfTestsAnswer) {
  outb(0x64, 0xaa);
  EXPECT_EQ(inb(0x60), 0x55);
  outb(0x64, 0xab);
  EXPECT_EQ(inb(0x60), 0x00);
  outb(0x64, 0xd2);  // write keyboard output buffer: comes back as data
  outb(0x60, 0x42);
  EXPECT_EQ(inb(0x64) & I8042::kStatusOutputFull, I8042::kStatusOutputFull);
  EXPECT_EQ(inb(0x60), 0x42);
}

TEST_F(I8042Test, NothingAnswersForAbsentDevices) {
  outb(0x60, 0xff);  // keyboard reset
  outb(0x64, 0xd4);  // to the mouse
  outb(0x60, 0xf4);
  outb(0x64, 0xd3);  // aux loop
  outb(0x60, 0x5a);
  EXPECT_EQ(inb(0x64) & I8042::kStatusOutputFull, 0);
  EXPECT_EQ(resets_, 0);
}

TEST_F(I8042Test, ANewCommandDropsAPendingParameter) {
  outb(0x64, 0x60);
  outb(0x64, 0xaa);  // not a parameter
  outb(0x60, 0x00);  // goes to the keyboard, not the CTR
  EXPECT_EQ(inb(0x60), 0x55);
  outb(0x64, 0x20);
  EXPECT_EQ(inb(0x60), I8042::kDefaultCtr);
}

TEST_F(I8042Test, PortBTogglesAndKeepsItsLowBits) {
  const uint8_t a = inb(0x61);
  const uint8_t b = inb(0x61);
  EXPECT_NE(a & 0x10, b & 0x10);  // refresh
  EXPECT_NE(a & 0x20, b & 0x20);  // timer 2 output
  outb(0x61, 0xff);
  EXPECT_EQ(inb(0x61) & 0x0f, 0x0f);
  outb(0x61, 0x01);
  EXPECT_EQ(inb(0x61) & 0x0f, 0x01);
}

TEST_F(I8042Test, UnusedPortsReadAllOnes) {
  EXPECT_EQ(inb(0x62), 0xff);
  EXPECT_EQ(inb(0x63), 0xff);
  outb(0x62, 0xfe);
  EXPECT_EQ(resets_, 0);
}

TEST(I8042, ResetCallbackMayUseTheDevice) {
  // The callback runs with the device unlocked: touching the device from it must not deadlock.
  std::shared_ptr<I8042> dev;
  uint8_t seen = 0;
  dev = std::make_shared<I8042>([&] { dev->read(I8042::kCommandOffset, std::span(&seen, 1)); });
  const uint8_t cmd = 0xfe;
  dev->write(I8042::kCommandOffset, std::span(&cmd, 1));
  EXPECT_EQ(seen & I8042::kStatusNotInhibited, I8042::kStatusNotInhibited);
}

class CountingTrigger : public IrqTrigger {
 public:
  void trigger() override { ++count; }
  int count = 0;
};

class I8042KeysTest : public testing::Test {
 protected:
  I8042KeysTest() { EXPECT_TRUE(keys_bus_.add(I8042::kBase, I8042::kLength, keys_, "i8042")); }
  uint8_t key_inb(uint16_t port) {
    uint8_t b = 0;
    EXPECT_TRUE(keys_bus_.read(port, std::span(&b, 1)));
    return b;
  }
  void key_outb(uint16_t port, uint8_t v) { EXPECT_TRUE(keys_bus_.write(port, std::span(&v, 1))); }
  std::vector<uint8_t> drain() {
    std::vector<uint8_t> bytes;
    while ((key_inb(0x64) & I8042::kStatusOutputFull) != 0 && bytes.size() < 32) bytes.push_back(key_inb(0x60));
    return bytes;
  }

  std::shared_ptr<CountingTrigger> irq_ = std::make_shared<CountingTrigger>();
  std::shared_ptr<I8042> keys_ = std::make_shared<I8042>([] {}, irq_);
  Bus keys_bus_;
};

TEST_F(I8042KeysTest, CtrlAltDelUsesSet1WhenTheControllerTranslates) {
  // kDefaultCtr has the translate bit, as Linux leaves it: the guest sees set 1 make codes.
  ASSERT_TRUE(keys_->queue_ctrl_alt_del());
  EXPECT_EQ(irq_->count, 1);
  EXPECT_EQ(drain(), (std::vector<uint8_t>{0x1d, 0x38, 0xe0, 0x53}));
  // Each read that leaves bytes behind interrupts again (3 of the 4 reads).
  EXPECT_EQ(irq_->count, 4);
}

TEST_F(I8042KeysTest, CtrlAltDelUsesSet2WithoutTranslation) {
  key_outb(0x64, 0x60);
  key_outb(0x60, I8042::kCtrKbdInt | I8042::kCtrSystemFlag);  // translate off (i8042.direct)
  ASSERT_TRUE(keys_->queue_ctrl_alt_del());
  EXPECT_EQ(drain(), (std::vector<uint8_t>{0x14, 0x11, 0xe0, 0x71}));
}

TEST_F(I8042KeysTest, NoInterruptWhileTheGuestMasksTheKeyboard) {
  key_outb(0x64, 0x60);
  key_outb(0x60, I8042::kCtrSystemFlag | I8042::kCtrTranslate);  // keyboard interrupt off
  ASSERT_TRUE(keys_->queue_ctrl_alt_del());
  EXPECT_EQ(irq_->count, 0);
  EXPECT_EQ(drain().size(), 4u);  // the guest may still poll the bytes
  EXPECT_EQ(irq_->count, 0);
}

TEST_F(I8042KeysTest, AFullBufferRefusesTheWholeSequence) {
  ASSERT_TRUE(keys_->queue_ctrl_alt_del());
  ASSERT_TRUE(keys_->queue_ctrl_alt_del());
  ASSERT_TRUE(keys_->queue_ctrl_alt_del());
  ASSERT_TRUE(keys_->queue_ctrl_alt_del());  // 16 bytes: the buffer is full
  auto refused = keys_->queue_ctrl_alt_del();
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("output buffer full"), std::string::npos);
  EXPECT_EQ(drain().size(), 16u);
  EXPECT_TRUE(keys_->queue_ctrl_alt_del());  // room again once the guest read them
}

TEST_F(I8042Test, CtrlAltDelWithoutAnIrqStillQueues) {
  ASSERT_TRUE(dev_->queue_ctrl_alt_del());
  EXPECT_EQ(inb(0x64) & I8042::kStatusOutputFull, I8042::kStatusOutputFull);
  EXPECT_EQ(inb(0x60), 0x1d);
}

TEST_F(I8042Test, StateCarriesTheConfigurationAPendingCommandAndWaitingKeys) {
  outb(0x64, 0x60);  // write the configuration byte: no translation, keyboard interrupt on
  outb(0x60, I8042::kCtrKbdInt | I8042::kCtrSystemFlag);
  ASSERT_TRUE(dev_->queue_ctrl_alt_del());  // set 2: 14 11 e0 71
  EXPECT_EQ(inb(0x60), 0x14);
  outb(0x64, 0xd1);  // output-port write, its parameter still to come
  snapshot::Encoder out;
  dev_->save_state(out);
  const auto bytes = out.take();

  I8042 copy([] {});
  snapshot::Decoder in(bytes, "i8042 state");
  ASSERT_TRUE(copy.restore_state(in));
  EXPECT_TRUE(in.finish());
  Bus bus;
  auto shared = std::shared_ptr<I8042>(&copy, [](I8042*) {});
  ASSERT_TRUE(bus.add(I8042::kBase, I8042::kLength, shared, "i8042"));
  uint8_t b = 0;
  std::vector<uint8_t> keys;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(bus.read(0x60, std::span(&b, 1)));
    keys.push_back(b);
  }
  EXPECT_EQ(keys, (std::vector<uint8_t>{0x11, 0xe0, 0x71}));
  b = 0x20;  // read the configuration byte back
  ASSERT_TRUE(bus.write(0x64, std::span(&b, 1)));
  ASSERT_TRUE(bus.read(0x60, std::span(&b, 1)));
  EXPECT_EQ(b, I8042::kCtrKbdInt | I8042::kCtrSystemFlag);
}

TEST_F(I8042Test, DamagedStateIsRefusedAndChangesNothing) {
  snapshot::Encoder out;
  dev_->save_state(out);
  auto bytes = out.take();
  for (size_t len = 0; len < bytes.size(); ++len) {
    I8042 copy([] {});
    snapshot::Decoder in(std::span(bytes.data(), len), "i8042 state");
    EXPECT_FALSE(copy.restore_state(in)) << "truncated at " << len;
  }
  bytes[2] = 0x99;  // no such pending command
  I8042 copy([] {});
  snapshot::Decoder in(bytes, "i8042 state");
  const auto r = copy.restore_state(in);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pending command"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace kiln
