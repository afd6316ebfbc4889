// 16550A register model. Section references are to the PC16550D datasheet ("8.0 Registers").
#include "devices/serial.h"

#include <algorithm>

#include "devices/uart_regs.h"

namespace kiln {

using namespace uart;

namespace {
// With nothing in loopback, the host side looks like a connected terminal: carrier, DSR and CTS on.
constexpr uint8_t kHostModemLines = kMsrDcd | kMsrDsr | kMsrCts;
}  // namespace

Serial::Serial(std::shared_ptr<IrqLine> irq, Output output) : irq_(std::move(irq)), output_(std::move(output)) {}

void Serial::read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(mu_);
  // Wider accesses act as consecutive byte accesses (8-bit device on a wider bus).
  for (size_t i = 0; i < data.size(); ++i) data[i] = read_register(offset + i);
  update_irq();
}

void Serial::write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < data.size(); ++i) write_register(offset + i, data[i]);
  update_irq();
}

size_t Serial::enqueue_input(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  const size_t n = std::min(bytes.size(), space_locked());
  rx_.insert(rx_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  update_irq();
  return n;
}

size_t Serial::input_space() const {
  std::lock_guard lock(mu_);
  return space_locked();
}

bool Serial::wait_for_input_space(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return space_cv_.wait_for(lock, timeout, [this] { return space_locked() > 0; });
}

size_t Serial::space_locked() const {
  if ((mcr_ & kMcrLoop) != 0) return 0;
  return rx_.size() >= kInputCapacity ? 0 : kInputCapacity - rx_.size();
}

uint8_t Serial::read_register(uint64_t offset) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kRbrThr:
      if (dlab) return dll_;
      if (!rx_.empty()) {
        rbr_ = rx_.front();
        rx_.pop_front();
        space_cv_.notify_all();
      }
      return rbr_;  // an empty receiver repeats the last byte, like the real holding register
    case kIer:
      return dlab ? dlm_ : ier_;
    case kIirFcr: {
      // 8.5: reading IIR clears a THRE interrupt when that is what it reports.
      const uint8_t id = interrupt_id();
      if (id == kIirThri) thre_pending_ = false;
      return static_cast<uint8_t>(id | ((fcr_ & kFcrEnable) != 0 ? kIirFifoEnabled : 0));
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr: {
      // 8.4: the error bits clear on read; the transmitter is always empty.
      const uint8_t lsr = static_cast<uint8_t>((rx_.empty() ? 0 : kLsrDr) | lsr_errors_ | kLsrThre | kLsrTemt);
      lsr_errors_ = 0;
      return lsr;
    }
    case kMsr: {
      const uint8_t msr = static_cast<uint8_t>(modem_inputs() | msr_deltas_);
      msr_deltas_ = 0;
      return msr;
    }
    case kScr:
      return scr_;
    default:
      return 0xff;  // beyond the 8 registers (only with a wider range or access)
  }
}

void Serial::write_register(uint64_t offset, uint8_t value) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kRbrThr:
      if (dlab) {
        dll_ = value;
      } else {
        transmit(value);
      }
      return;
    case kIer:
      if (dlab) {
        dlm_ = value;
      } else {
        write_ier(value);
      }
      return;
    case kIirFcr:
      write_fcr(value);  // FCR is at offset 2 whatever DLAB says
      return;
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      write_mcr(value);
      return;
    case kScr:
      scr_ = value;
      return;
    default:
      return;  // LSR and MSR are read-only here
  }
}

void Serial::write_ier(uint8_t value) {
  const uint8_t old = ier_;
  ier_ = value & kIerMask;
  // Enabling the THRE interrupt while THR is empty (always, here) raises it at once; Linux's startup
  // test (UART_BUG_THRE) toggles IER.THRI and expects IIR to report it again each time. Like QEMU and
  // Bochs, resample only on the rising edge.
  if (((old ^ ier_) & kIerThri) != 0) thre_pending_ = (ier_ & kIerThri) != 0;
}

void Serial::write_fcr(uint8_t value) {
  const bool enable = (value & kFcrEnable) != 0;
  // 8.6: changing FCR0 resets both FIFOs; the other bits only take effect while FCR0 is set.
  if (enable != ((fcr_ & kFcrEnable) != 0)) clear_rx();
  if (!enable) {
    fcr_ = 0;
    return;
  }
  if ((value & kFcrClearRx) != 0) clear_rx();
  // kFcrClearTx: the transmitter never holds anything.
  fcr_ = value & (kFcrEnable | kFcrTriggerMask);
}

void Serial::write_mcr(uint8_t value) {
  const uint8_t old_inputs = modem_inputs();
  const bool was_loop = (mcr_ & kMcrLoop) != 0;
  mcr_ = value & kMcrMask;
  latch_modem_deltas(old_inputs);
  if (was_loop && (mcr_ & kMcrLoop) == 0) space_cv_.notify_all();  // host input accepted again
}

void Serial::transmit(uint8_t byte) {
  if ((mcr_ & kMcrLoop) != 0) {
    // 8.7 loopback: the transmitter feeds the receiver. A full receiver is an overrun: in FIFO mode the
    // new byte is lost; without FIFOs it overwrites the holding register.
    const size_t depth = (fcr_ & kFcrEnable) != 0 ? kFifoSize : 1;
    if (rx_.size() < depth) {
      rx_.push_back(byte);
    } else {
      lsr_errors_ |= kLsrOe;
      if (depth == 1) rx_.back() = byte;
    }
  } else if (output_) {
    output_(std::span<const uint8_t>(&byte, 1));
  }
  // Writing THR clears a pending THRE interrupt; the byte leaves at once, so THR is empty again.
  thre_pending_ = true;
}

void Serial::clear_rx() {
  rx_.clear();
  space_cv_.notify_all();
}

uint8_t Serial::interrupt_id() const {
  // 8.5, table IV: line status > received data > THR empty > modem status.
  if ((ier_ & kIerRlsi) != 0 && lsr_errors_ != 0) return kIirRlsi;
  // Data is reported as soon as one byte is there (as if the trigger level or timeout were always met).
  if ((ier_ & kIerRdi) != 0 && !rx_.empty()) return kIirRdi;
  if ((ier_ & kIerThri) != 0 && thre_pending_) return kIirThri;
  if ((ier_ & kIerMsi) != 0 && msr_deltas_ != 0) return kIirMsi;
  return kIirNoInt;
}

uint8_t Serial::modem_inputs() const {
  if ((mcr_ & kMcrLoop) == 0) return kHostModemLines;
  // 8.7 loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
  uint8_t in = 0;
  if ((mcr_ & kMcrDtr) != 0) in |= kMsrDsr;
  if ((mcr_ & kMcrRts) != 0) in |= kMsrCts;
  if ((mcr_ & kMcrOut1) != 0) in |= kMsrRi;
  if ((mcr_ & kMcrOut2) != 0) in |= kMsrDcd;
  return in;
}

void Serial::latch_modem_deltas(uint8_t old_inputs) {
  const uint8_t now = modem_inputs();
  const uint8_t changed = old_inputs ^ now;
  if ((changed & kMsrCts) != 0) msr_deltas_ |= kMsrDcts;
  if ((changed & kMsrDsr) != 0) msr_deltas_ |= kMsrDdsr;
  if ((changed & kMsrDcd) != 0) msr_deltas_ |= kMsrDdcd;
  if ((old_inputs & kMsrRi) != 0 && (now & kMsrRi) == 0) msr_deltas_ |= kMsrTeri;
}

void Serial::update_irq() {
  if (paused_) return;
  const bool level = interrupt_id() != kIirNoInt && (mcr_ & kMcrOut2) != 0;
  if (level == irq_level_) return;
  irq_level_ = level;
  if (irq_) irq_->set_level(level);
}

}  // namespace kiln
