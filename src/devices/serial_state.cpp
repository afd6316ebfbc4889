// 16550A: pause/resume and snapshot state (PC16550D datasheet, "8.0 Registers").
#include <algorithm>

#include "devices/serial.h"
#include "devices/uart_regs.h"

namespace kiln {

using namespace uart;

namespace {

// Every stored register (LSR, IIR and MSR are computed from these); fixed-width, no padding.
struct SerialRecord {
  uint8_t ier;
  uint8_t lcr;
  uint8_t mcr;
  uint8_t fcr;
  uint8_t scr;
  uint8_t dll;
  uint8_t dlm;
  uint8_t lsr_errors;
  uint8_t msr_deltas;
  uint8_t rbr;
  uint8_t thre_pending;  // 0 or 1
  uint8_t irq_level;     // 0 or 1
};
static_assert(sizeof(SerialRecord) == 12);

}  // namespace

void Serial::pause() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

void Serial::resume() {
  std::lock_guard lock(mu_);
  paused_ = false;
  update_irq();
}

void Serial::save_state(snapshot::Encoder& out) const {
  std::lock_guard lock(mu_);
  out.pod(SerialRecord{ier_, lcr_, mcr_, fcr_, scr_, dll_, dlm_, lsr_errors_, msr_deltas_, rbr_,
                       static_cast<uint8_t>(thre_pending_ ? 1 : 0), static_cast<uint8_t>(irq_level_ ? 1 : 0)});
  const std::vector<uint8_t> rx(rx_.begin(), rx_.end());
  out.bytes(rx);
}

Status Serial::restore_state(snapshot::Decoder& in) {
  SerialRecord r{};
  KILN_TRY(in.pod(r));
  // Bits a 16550A never holds (the masks the register writes apply).
  if ((r.ier & ~kIerMask) != 0) return in.invalid(fmt::format("IER {:#04x} has bits 4-7 set", r.ier));
  if ((r.mcr & ~kMcrMask) != 0) return in.invalid(fmt::format("MCR {:#04x} has bits 5-7 set", r.mcr));
  const bool fifo = (r.fcr & kFcrEnable) != 0;
  if ((r.fcr & ~(kFcrEnable | kFcrTriggerMask)) != 0 || (!fifo && r.fcr != 0)) {
    return in.invalid(fmt::format("FCR {:#04x} is not an enable/trigger setting", r.fcr));
  }
  if ((r.lsr_errors & ~kLsrErrors) != 0) return in.invalid(fmt::format("LSR errors {:#04x} hold other bits", r.lsr_errors));
  if ((r.msr_deltas & ~kMsrDeltas) != 0) return in.invalid(fmt::format("MSR deltas {:#04x} hold line bits", r.msr_deltas));
  if (r.thre_pending > 1 || r.irq_level > 1) return in.invalid("UART flags are not 0 or 1");
  auto rx = KILN_TRY_VALUE(in.bytes(kInputCapacity));

  std::lock_guard lock(mu_);
  ier_ = r.ier;
  lcr_ = r.lcr;
  mcr_ = r.mcr;
  fcr_ = r.fcr;
  scr_ = r.scr;
  dll_ = r.dll;
  dlm_ = r.dlm;
  lsr_errors_ = r.lsr_errors;
  msr_deltas_ = r.msr_deltas;
  rbr_ = r.rbr;
  thre_pending_ = r.thre_pending == 1;
  irq_level_ = r.irq_level == 1;
  rx_.assign(rx.begin(), rx.end());
  paused_ = true;
  space_cv_.notify_all();
  return {};
}

}  // namespace kiln
