// Command set from the IBM PC/AT technical reference (keyboard controller) as Linux's
// drivers/input/serio/i8042.c and arch/x86/kernel/reboot.c use it.
#include "devices/i8042.h"

#include <array>

namespace kiln {

namespace {
constexpr uint8_t kCmdReadCtr = 0x20;       // 0x21-0x3f read controller RAM
constexpr uint8_t kCmdWriteCtr = 0x60;      // 0x61-0x7f write controller RAM
constexpr uint8_t kCmdAuxDisable = 0xa7;
constexpr uint8_t kCmdAuxEnable = 0xa8;
constexpr uint8_t kCmdSelfTest = 0xaa;      // answers 0x55
constexpr uint8_t kCmdKbdTest = 0xab;       // answers 0x00 (no error)
constexpr uint8_t kCmdKbdDisable = 0xad;
constexpr uint8_t kCmdKbdEnable = 0xae;
constexpr uint8_t kCmdReadOutputPort = 0xd0;
constexpr uint8_t kCmdWriteOutputPort = 0xd1;
constexpr uint8_t kCmdWriteKbdOutput = 0xd2;  // the next data byte comes back as keyboard data
constexpr uint8_t kCmdWriteAuxOutput = 0xd3;  // no aux port: the byte is swallowed
constexpr uint8_t kCmdWriteAux = 0xd4;        // no mouse: the byte is swallowed
constexpr uint8_t kCmdPulseFirst = 0xf0;      // 0xf0-0xff pulse output-port bits 0-3 where the command bit is 0
constexpr uint8_t kOutputPortReset = 0x01;    // active low
constexpr uint8_t kPortBWritable = 0x0f;
constexpr uint8_t kPortBRefresh = 0x10;       // toggles every 15 us on real hardware
constexpr uint8_t kPortBTimer2Out = 0x20;     // PIT channel 2 output
}  // namespace

I8042::I8042(std::function<void()> reset) : reset_(std::move(reset)) {}

I8042::I8042(std::function<void()> reset, std::shared_ptr<IrqTrigger> keyboard_irq)
    : reset_(std::move(reset)), keyboard_irq_(std::move(keyboard_irq)) {}

void I8042::read(uint64_t offset, std::span<uint8_t> data) {
  bool interrupt = false;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < data.size(); ++i) data[i] = read_port(offset + i);
    // More bytes wait after a data read: interrupt again so the guest comes back for them.
    interrupt = offset == kDataOffset && !output_.empty() && (ctr_ & kCtrKbdInt) != 0;
  }
  if (interrupt && keyboard_irq_) keyboard_irq_->trigger();
}

Status I8042::queue_ctrl_alt_del() {
  // Make codes only (no releases), Ctrl, Alt, then the extended Delete key.
  static constexpr std::array<uint8_t, 4> kSet2 = {0x14, 0x11, 0xe0, 0x71};
  static constexpr std::array<uint8_t, 4> kSet1 = {0x1d, 0x38, 0xe0, 0x53};
  bool interrupt = false;
  {
    std::lock_guard lock(mu_);
    if (kOutputDepth - output_.size() < kSet2.size()) {
      return fail("i8042: the guest has not read the keys sent before (output buffer full)");
    }
    for (const uint8_t code : (ctr_ & kCtrTranslate) != 0 ? kSet1 : kSet2) push_output(code);
    interrupt = (ctr_ & kCtrKbdInt) != 0;
  }
  if (interrupt && keyboard_irq_) keyboard_irq_->trigger();
  return {};
}

size_t I8042::unread() const {
  std::lock_guard lock(mu_);
  return output_.size();
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
  bool reset = false;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < data.size(); ++i) reset |= write_port(offset + i, data[i]);
  }
  if (reset && reset_) reset_();
}

uint8_t I8042::read_port(uint64_t offset) {
  switch (offset) {
    case kDataOffset:
      if (!output_.empty()) {
        last_data_ = output_.front();
        output_.pop_front();
      }
      return last_data_;
    case kPortBOffset:
      // Loops that wait for the refresh bit or the timer-2 output to change (PIT calibration without
      // an in-kernel PIT) see them flip on every read. This is not a timer.
      port_b_toggle_ = !port_b_toggle_;
      return static_cast<uint8_t>(port_b_ | (port_b_toggle_ ? kPortBRefresh | kPortBTimer2Out : 0));
    case kCommandOffset:
      return static_cast<uint8_t>((output_.empty() ? 0 : kStatusOutputFull) | (ctr_ & kCtrSystemFlag) |
                                  (last_was_command_ ? kStatusLastWasCommand : 0) | kStatusNotInhibited);
    default:
      return 0xff;
  }
}

bool I8042::write_port(uint64_t offset, uint8_t value) {
  switch (offset) {
    case kDataOffset:
      last_was_command_ = false;
      return data(value);
    case kPortBOffset:
      port_b_ = value & kPortBWritable;
      return false;
    case kCommandOffset:
      last_was_command_ = true;
      return command(value);
    default:
      return false;
  }
}

bool I8042::command(uint8_t cmd) {
  pending_ = 0;  // a new command abandons a parameter that never came
  if (cmd >= kCmdPulseFirst) return (cmd & kOutputPortReset) == 0;  // 0xfe: pulse the reset line
  if (cmd >= kCmdReadCtr && cmd < kCmdWriteCtr) {
    push_output(cmd == kCmdReadCtr ? ctr_ : 0);
    return false;
  }
  if (cmd >= kCmdWriteCtr && cmd < 0x80) {
    pending_ = cmd;
    return false;
  }
  switch (cmd) {
    case kCmdAuxDisable:
      ctr_ |= kCtrAuxDisable;
      break;
    case kCmdAuxEnable:
      ctr_ &= static_cast<uint8_t>(~kCtrAuxDisable);
      break;
    case kCmdSelfTest:
      push_output(0x55);
      break;
    case kCmdKbdTest:
      push_output(0x00);
      break;
    case kCmdKbdDisable:
      ctr_ |= kCtrKbdDisable;
      break;
    case kCmdKbdEnable:
      ctr_ &= static_cast<uint8_t>(~kCtrKbdDisable);
      break;
    case kCmdReadOutputPort:
      push_output(output_port_);
      break;
    case kCmdWriteOutputPort:
    case kCmdWriteKbdOutput:
    case kCmdWriteAuxOutput:
    case kCmdWriteAux:
      pending_ = cmd;
      break;
    default:
      break;  // unknown or unsupported (aux tests, input port, ...): no answer, as an AT-type controller
  }
  return false;
}

bool I8042::data(uint8_t value) {
  const uint8_t cmd = pending_;
  pending_ = 0;
  switch (cmd) {
    case kCmdWriteCtr:
      ctr_ = value;
      return false;
    case kCmdWriteOutputPort:
      output_port_ = value;
      return (value & kOutputPortReset) == 0;
    case kCmdWriteKbdOutput:
      push_output(value);
      return false;
    default:
      return false;  // controller RAM, aux bytes, or a byte for the (absent) keyboard
  }
}

void I8042::push_output(uint8_t value) {
  if (output_.size() < kOutputDepth) output_.push_back(value);
}

}  // namespace kiln
