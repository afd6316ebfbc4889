// probe=serial: register-level conformance of the COM1 UART as a 16550A (PC16550D datasheet,
// "8.0 Registers"), from ring 3: scratch, line control, divisor latch, IER, FIFO control,
// loopback modem lines, loopback data through the FIFO, overrun with and without FIFO.
//
// While the UART is in loopback mode nothing can be printed (the bytes would loop back), so the
// checks run first, with their outcomes recorded, the registers are restored, and then the
// PROBE lines follow: serial.scratch, serial.lcr, serial.divisor, serial.ier, serial.fifo,
// serial.loopback_msr, serial.lsr_idle, serial.loopback_data, serial.overrun,
// serial.overrun_nofifo. A failure detail names the register and the value read.
#include "probe/lib/report.h"
#include "probe/scenarios/scenario.h"
#include "runtime/io.h"

namespace kiln::probe {
namespace {

constexpr uint16_t kCom1 = 0x3f8;
enum Reg : uint16_t { kRbrThr = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLcr8N1 = 0x03;
constexpr uint8_t kFcrEnableClear = 0x07;  // enable FIFOs, clear RX and TX
constexpr uint8_t kFcrClear = 0x06;        // clear both, FIFOs off
constexpr uint8_t kMcrLoop = 0x10;
constexpr uint8_t kLsrDr = 0x01;
constexpr uint8_t kLsrOe = 0x02;
constexpr uint8_t kLsrIdle = 0x60;         // THRE | TEMT, nothing received, no errors
constexpr size_t kFifoDepth = 16;

uint8_t rd(Reg r) { return guest::inb(static_cast<uint16_t>(kCom1 + r)); }
void wr(Reg r, uint8_t v) { guest::outb(static_cast<uint16_t>(kCom1 + r), v); }

// One check's outcome, printed after the UART is back to normal.
struct Outcome {
  const char* name;
  bool ok = true;
  const char* what = "";  // register or step that went wrong
  uint8_t got = 0;
  uint8_t want = 0;

  void expect(const char* step, uint8_t value, uint8_t expected) {
    if (ok && value != expected) {
      ok = false;
      what = step;
      got = value;
      want = expected;
    }
  }
};

void drain_receiver() {
  for (size_t i = 0; i < 4 * kFifoDepth && (rd(kLsr) & kLsrDr) != 0; ++i) (void)rd(kRbrThr);
}

// Writes `n` bytes of `text` in loopback and reads back what arrives; returns the count read.
size_t loop_through(const char* text, size_t n, char* back, size_t capacity) {
  for (size_t i = 0; i < n; ++i) wr(kRbrThr, static_cast<uint8_t>(text[i]));
  size_t got = 0;
  while (got < capacity && (rd(kLsr) & kLsrDr) != 0) back[got++] = static_cast<char>(rd(kRbrThr));
  return got;
}

}  // namespace

void run_serial(const Context&) {
  Outcome scratch{"serial.scratch"}, lcr{"serial.lcr"}, divisor{"serial.divisor"}, ier{"serial.ier"},
      fifo{"serial.fifo"}, msr{"serial.loopback_msr"}, idle{"serial.lsr_idle"}, data{"serial.loopback_data"},
      overrun{"serial.overrun"}, overrun1{"serial.overrun_nofifo"};

  const uint8_t saved_ier = rd(kIer), saved_lcr = rd(kLcr), saved_mcr = rd(kMcr), saved_scr = rd(kScr);
  wr(kLcr, saved_lcr | kLcrDlab);
  const uint8_t saved_dll = rd(kRbrThr), saved_dlm = rd(kIer);

  constexpr uint8_t kScratchValues[] = {0x00, 0x55, 0xaa, 0xff};
  for (const uint8_t v : kScratchValues) {
    wr(kScr, v);
    scratch.expect("scr", rd(kScr), v);
  }
  constexpr uint8_t kLcrValues[] = {0x1f, kLcr8N1};  // 8 bits, 2 stop bits, parity; then 8N1
  for (const uint8_t v : kLcrValues) {
    wr(kLcr, v);
    lcr.expect("lcr", rd(kLcr), v);
  }
  wr(kIer, 0x00);
  wr(kLcr, kLcr8N1 | kLcrDlab);
  wr(kRbrThr, 0x34);
  wr(kIer, 0x12);
  divisor.expect("dll", rd(kRbrThr), 0x34);
  divisor.expect("dlm", rd(kIer), 0x12);
  wr(kLcr, kLcr8N1);
  divisor.expect("ier with dlab off", rd(kIer), 0x00);
  wr(kIer, 0xf0);  // bits 4-7 do not exist on a 16550A
  ier.expect("ier bits 4-7", rd(kIer), 0x00);
  wr(kIer, 0x00);

  wr(kIirFcr, kFcrEnableClear);
  fifo.expect("iir", rd(kIirFcr), 0xc1);  // FIFOs enabled, no interrupt pending

  wr(kMcr, kMcrLoop | 0x0a);  // RTS, OUT2 -> CTS, DCD (Linux's 8250 loopback test)
  msr.expect("msr with rts|out2", rd(kMsr) & 0xf0, 0x90);
  wr(kMcr, kMcrLoop | 0x05);  // DTR, OUT1 -> DSR, RI
  msr.expect("msr with dtr|out1", rd(kMsr) & 0xf0, 0x60);
  wr(kMcr, kMcrLoop);
  drain_receiver();
  idle.expect("lsr", rd(kLsr), kLsrIdle);

  static const char kText[] = "kiln 16550A!";
  constexpr size_t kTextSize = sizeof(kText) - 1;
  char back[kFifoDepth + 4] = {};
  const size_t got = loop_through(kText, kTextSize, back, sizeof(back));
  data.expect("bytes received", static_cast<uint8_t>(got), kTextSize);
  for (size_t i = 0; i < got && i < kTextSize; ++i) data.expect("rbr", static_cast<uint8_t>(back[i]), kText[i]);
  data.expect("lsr after", rd(kLsr), kLsrIdle);

  // One byte more than the FIFO holds: the last is lost, LSR.OE is set once.
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQ";
  for (size_t i = 0; i <= kFifoDepth; ++i) wr(kRbrThr, static_cast<uint8_t>(kAlphabet[i]));
  overrun.expect("lsr", rd(kLsr), kLsrIdle | kLsrOe | kLsrDr);
  overrun.expect("lsr again", rd(kLsr), kLsrIdle | kLsrDr);
  const size_t kept = loop_through(kAlphabet, 0, back, sizeof(back));
  overrun.expect("bytes kept", static_cast<uint8_t>(kept), kFifoDepth);
  for (size_t i = 0; i < kept && i < kFifoDepth; ++i) overrun.expect("rbr", static_cast<uint8_t>(back[i]), kAlphabet[i]);

  // Without FIFOs the holding register is overwritten by the newer byte.
  wr(kIirFcr, kFcrClear);
  wr(kIirFcr, 0x00);
  wr(kRbrThr, 'x');
  wr(kRbrThr, 'y');
  overrun1.expect("lsr", rd(kLsr), kLsrIdle | kLsrOe | kLsrDr);
  overrun1.expect("rbr", rd(kRbrThr), 'y');
  overrun1.expect("lsr after", rd(kLsr), kLsrIdle);

  // Back to how the UART was (FIFOs off; the probe never reads COM1 otherwise).
  wr(kMcr, saved_mcr & static_cast<uint8_t>(~kMcrLoop));
  drain_receiver();
  wr(kLcr, saved_lcr | kLcrDlab);
  wr(kRbrThr, saved_dll);
  wr(kIer, saved_dlm);
  wr(kLcr, saved_lcr & static_cast<uint8_t>(~kLcrDlab));
  wr(kIer, saved_ier);
  wr(kScr, saved_scr);

  const Outcome* const outcomes[] = {&scratch, &lcr, &divisor, &ier, &fifo, &msr, &idle, &data, &overrun, &overrun1};
  for (const Outcome* o : outcomes) {
    check(o->name, o->ok, o->what, " read ", hex(o->got), " expected ", hex(o->want));
  }
}

}  // namespace kiln::probe
