// Just enough of the PS/2 controller (Intel 8042) and of system control port B for Linux:
// the CPU reset line (reboot=k), the controller configuration byte, self tests, and status reads
// that never show a full input buffer. No keyboard or mouse is attached; the one key sequence it
// produces is Ctrl-Alt-Del from the host (API SendCtrlAltDel), with IRQ 1 when one is given.
//
// It spans ports 0x60..0x64 as ONE bus range (kBase, kLength):
//   offset 0 (0x60) data, offset 1 (0x61) port B, offsets 2-3 unused (read 0xff), offset 4 (0x64) status/command.
// With KVM's in-kernel PIT, KVM answers port 0x61 itself and offset 1 is never reached.
//
// Thread safety: one mutex; the reset callback and the keyboard IRQ run after it is released.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "common/result.h"
#include "devices/bus.h"
#include "devices/irq.h"
#include "snapshot/codec.h"

namespace kiln {

class I8042 : public BusDevice {
 public:
  static constexpr uint64_t kBase = 0x60;
  static constexpr uint64_t kLength = 5;
  static constexpr uint64_t kDataOffset = 0;
  static constexpr uint64_t kPortBOffset = 1;
  static constexpr uint64_t kCommandOffset = 4;

  // Status register bits (port 0x64 read).
  static constexpr uint8_t kStatusOutputFull = 0x01;
  static constexpr uint8_t kStatusInputFull = 0x02;  // never set: the controller is always ready
  static constexpr uint8_t kStatusSystemFlag = 0x04;
  static constexpr uint8_t kStatusLastWasCommand = 0x08;
  static constexpr uint8_t kStatusNotInhibited = 0x10;

  // Controller configuration byte ("command byte", read with 0x20, written with 0x60).
  static constexpr uint8_t kCtrKbdInt = 0x01;
  static constexpr uint8_t kCtrSystemFlag = 0x04;
  static constexpr uint8_t kCtrKbdDisable = 0x10;
  static constexpr uint8_t kCtrAuxDisable = 0x20;
  static constexpr uint8_t kCtrTranslate = 0x40;
  static constexpr uint8_t kDefaultCtr = kCtrKbdInt | kCtrSystemFlag | kCtrTranslate;

  // Called when the guest pulses the reset line (command 0xFE, or an output-port write with bit 0 clear).
  explicit I8042(std::function<void()> reset);
  // `keyboard_irq` (ISA IRQ 1, edge) is raised when key bytes wait in the output buffer and the
  // guest enabled keyboard interrupts (configuration byte bit 0).
  I8042(std::function<void()> reset, std::shared_ptr<IrqTrigger> keyboard_irq);

  // Queues the make codes of Ctrl, Alt and Delete, as Firecracker's i8042 does for its
  // SendCtrlAltDel action: scan code set 2 (14, 11, e0 71), or set 1 (1d, 38, e0 53) when the
  // configuration byte asks the controller to translate. Fails, queueing nothing, when the
  // output buffer lacks room for all four bytes (the guest has not read earlier ones).
  [[nodiscard]] Status queue_ctrl_alt_del();
  // Bytes waiting in the output buffer that the guest has not read (kiln's exit summary).
  [[nodiscard]] size_t unread() const;

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  // Snapshots (i8042_state.cpp): every register and the bytes waiting in the output buffer.
  // Restore validates (buffer depth, pending command) and leaves the device unchanged on error.
  void save_state(snapshot::Encoder& out);
  [[nodiscard]] Status restore_state(snapshot::Decoder& in);

 private:
  [[nodiscard]] uint8_t read_port(uint64_t offset);
  // Returns true when the write asks for a CPU reset.
  [[nodiscard]] bool write_port(uint64_t offset, uint8_t value);
  [[nodiscard]] bool command(uint8_t cmd);
  [[nodiscard]] bool data(uint8_t value);
  void push_output(uint8_t value);

  static constexpr size_t kOutputDepth = 16;

  const std::function<void()> reset_;
  const std::shared_ptr<IrqTrigger> keyboard_irq_;
  mutable std::mutex mu_;
  uint8_t ctr_ = kDefaultCtr;
  uint8_t output_port_ = 0x03;  // bit 0: reset line inactive; bit 1: A20 enabled
  uint8_t pending_ = 0;         // command waiting for its parameter byte on port 0x60, or 0
  bool last_was_command_ = false;
  std::deque<uint8_t> output_;  // bytes for the guest to read from port 0x60
  uint8_t last_data_ = 0;
  uint8_t port_b_ = 0;  // writable bits 0-3 of port 0x61
  bool port_b_toggle_ = false;
};

}  // namespace kiln
