// A 16550A UART (PC16550D datasheet), as Linux's 8250 driver uses it: COM1 is 8 ports at 0x3f8, IRQ 4.
//
// The transmitter is infinitely fast: every THR write goes straight to `output` and LSR always reports
// THRE | TEMT. The receiver holds host input (enqueue_input) in a bounded buffer that the guest drains
// through RBR. Interrupts follow the datasheet's IIR priorities; the level reaches the IrqLine only
// while MCR.OUT2 is set, as on PC hardware where OUT2 gates the ISA IRQ line.
//
// Thread safety: all methods may be called from any thread (vCPU threads, the console thread); one
// mutex serialises them. `output` and IrqLine::set_level run with that mutex held (so output bytes and
// level changes keep their order); they must not call back into this Serial.
//
// Snapshots: pause() freezes the interrupt line (host input is still buffered), save_state and
// restore_state carry every register and the receive FIFO, resume() drives the line again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>

#include "devices/bus.h"
#include "devices/irq.h"
#include "snapshot/codec.h"

namespace kiln {

class Serial : public BusDevice {
 public:
  using Output = std::function<void(std::span<const uint8_t>)>;

  // Guest-visible receive FIFO depth of a 16550A (matters for loopback overrun and Linux's FIFO sizing).
  static constexpr size_t kFifoSize = 16;
  // Host input the UART holds at most (RX FIFO plus backlog the guest has not read yet).
  static constexpr size_t kInputCapacity = 1024;

  Serial(std::shared_ptr<IrqLine> irq, Output output);

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  // Host stdin -> guest receiver. Takes as many bytes as fit (input_space()) and returns that count;
  // the rest is NOT taken and the caller decides whether to retry or drop it. Takes nothing while
  // the guest has the UART in loopback mode (the receive pin is disconnected then).
  [[nodiscard]] size_t enqueue_input(std::span<const uint8_t> bytes);
  [[nodiscard]] size_t input_space() const;
  // Blocks until input_space() > 0 or the timeout passes; returns whether there is space.
  [[nodiscard]] bool wait_for_input_space(std::chrono::milliseconds timeout) const;

  // The VM pauses: the IRQ line keeps its level until resume(), while host input is still taken
  // into the receiver (register accesses cannot happen: the vCPUs are parked).
  void pause();
  // Drives the line to the level the registers call for now (input that arrived while paused, or
  // restored registers, raise the interrupt here).
  void resume();
  // Every register, the receive FIFO with its backlog, and the line level last driven.
  void save_state(snapshot::Encoder& out) const;
  // Checks every field as untrusted (an Error leaves the UART unchanged) and leaves the UART
  // paused: the line is not driven here (its level at the snapshot is the interrupt controller's
  // saved state); resume() drives it again.
  [[nodiscard]] Status restore_state(snapshot::Decoder& in);

 private:
  [[nodiscard]] uint8_t read_register(uint64_t offset);
  void write_register(uint64_t offset, uint8_t value);
  void write_ier(uint8_t value);
  void write_fcr(uint8_t value);
  void write_mcr(uint8_t value);
  void transmit(uint8_t byte);
  void clear_rx();
  [[nodiscard]] uint8_t interrupt_id() const;  // IIR bits 0-3
  [[nodiscard]] uint8_t modem_inputs() const;  // MSR bits 4-7 as the UART sees them now
  void latch_modem_deltas(uint8_t old_inputs);
  void update_irq();
  [[nodiscard]] size_t space_locked() const;

  const std::shared_ptr<IrqLine> irq_;
  const Output output_;

  mutable std::mutex mu_;
  mutable std::condition_variable space_cv_;
  uint8_t ier_ = 0;
  uint8_t lcr_ = 0;
  uint8_t mcr_ = 0;
  uint8_t fcr_ = 0;  // enable and trigger bits as last written (the clear bits self-reset)
  uint8_t scr_ = 0;
  uint8_t dll_ = 0x0c;  // 9600 baud from the 1.8432 MHz clock; a datasheet reset leaves it undefined
  uint8_t dlm_ = 0;
  uint8_t lsr_errors_ = 0;   // OE/PE/FE/BI, cleared by reading LSR
  uint8_t msr_deltas_ = 0;   // cleared by reading MSR
  uint8_t rbr_ = 0;          // last byte read, returned again when the receiver is empty
  bool thre_pending_ = false;  // THR-empty interrupt latched; cleared by an IIR read that reports it or a THR write
  bool irq_level_ = false;
  bool paused_ = false;  // the line is frozen
  std::deque<uint8_t> rx_;
};

}  // namespace kiln
