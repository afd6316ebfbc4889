// 16550A snapshot support: pause freezes the IRQ line while input is still buffered, and the
// saved registers and FIFO come back in a fresh UART exactly as the guest left them; every
// malformed record is refused and leaves the UART as it was.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/serial.h"
#include "devices/uart_regs.h"
#include "fake_irq_line.h"
#include "snapshot/codec.h"

namespace kiln {
namespace {

using namespace uart;

// One UART with its line and output.
struct Uart {
  uint8_t in(uint64_t offset) {
    uint8_t b = 0;
    serial.read(offset, std::span(&b, 1));
    return b;
  }
  void out(uint64_t offset, uint8_t value) { serial.write(offset, std::span(&value, 1)); }
  size_t feed(const std::string& s) {
    return serial.enqueue_input(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  std::vector<uint8_t> save() const {
    snapshot::Encoder e;
    serial.save_state(e);
    return e.take();
  }
  Status restore(std::span<const uint8_t> bytes) {
    snapshot::Decoder d(bytes, "serial state");
    KILN_TRY(serial.restore_state(d));
    return d.finish();
  }

  std::shared_ptr<FakeIrqLine> irq = std::make_shared<FakeIrqLine>();
  std::string output;
  Serial serial{irq, [this](std::span<const uint8_t> b) { output.append(b.begin(), b.end()); }};
};

// Linux's 8250 set-up: 115200 8N1, FIFOs on, OUT2 (the IRQ gate), RX and line-status interrupts.
void linux_setup(Uart& u) {
  u.out(kLcr, kLcrDlab);
  u.out(kDll, 0x01);
  u.out(kDlm, 0x00);
  u.out(kLcr, 0x03);
  u.out(kIirFcr, kFcrEnable | 0x80);
  u.out(kMcr, kMcrDtr | kMcrRts | kMcrOut2);
  u.out(kScr, 0x5a);
  u.out(kIer, kIerRdi | kIerRlsi);
}

// Everything the guest can read without changing the UART (IIR clears THRE, LSR errors and MSR
// deltas clear on read: those are compared separately).
struct Visible {
  uint8_t ier, lcr, mcr, scr, dll, dlm;
  bool operator==(const Visible&) const = default;
};
Visible visible(Uart& u) {
  Visible v{u.in(kIer), u.in(kLcr), u.in(kMcr), u.in(kScr), 0, 0};
  u.out(kLcr, static_cast<uint8_t>(v.lcr | kLcrDlab));
  v.dll = u.in(kDll);
  v.dlm = u.in(kDlm);
  u.out(kLcr, v.lcr);
  return v;
}

TEST(SerialState, PauseHoldsTheLineAndKeepsTakingInput) {
  Uart u;
  linux_setup(u);
  ASSERT_TRUE(u.irq->changes.empty());
  u.serial.pause();
  EXPECT_EQ(u.feed("hi"), 2u);
  EXPECT_TRUE(u.irq->changes.empty());  // no interrupt while the VM is paused
  u.serial.resume();
  EXPECT_EQ(u.irq->changes, std::vector<bool>{true});
  EXPECT_EQ(u.in(kIirFcr) & 0x0f, kIirRdi);
  EXPECT_EQ(u.in(kRbrThr), 'h');
  EXPECT_EQ(u.in(kRbrThr), 'i');
  EXPECT_EQ(u.irq->changes, (std::vector<bool>{true, false}));
}

TEST(SerialState, RoundTripMidTransfer) {
  Uart a;
  linux_setup(a);
  ASSERT_EQ(a.feed("hello, world"), 12u);
  EXPECT_EQ(a.in(kRbrThr), 'h');
  EXPECT_EQ(a.in(kRbrThr), 'e');
  ASSERT_TRUE(a.irq->level);  // data still waiting
  a.out(kRbrThr, 'X');
  EXPECT_EQ(a.output, "X");
  a.serial.pause();
  const auto state = a.save();

  Uart b;
  ASSERT_TRUE(b.restore(state));
  EXPECT_TRUE(b.irq->changes.empty());  // the line's level is the interrupt controller's state
  EXPECT_EQ(visible(b), visible(a));
  EXPECT_EQ(b.in(kIirFcr), kIirRdi | kIirFifoEnabled);
  EXPECT_EQ(b.in(kLsr), kLsrDr | kLsrThre | kLsrTemt);
  EXPECT_EQ(b.serial.input_space(), Serial::kInputCapacity - 10);
  b.serial.resume();
  EXPECT_TRUE(b.irq->changes.empty());  // already high, as it was saved
  std::string rest;
  while ((b.in(kLsr) & kLsrDr) != 0) rest += static_cast<char>(b.in(kRbrThr));
  EXPECT_EQ(rest, "llo, world");
  EXPECT_EQ(b.irq->changes, std::vector<bool>{false});
  EXPECT_EQ(b.in(kRbrThr), 'd');  // the holding register repeats the last byte
  b.out(kRbrThr, 'Y');
  EXPECT_EQ(b.output, "Y");
}

TEST(SerialState, LoopbackErrorsAndModemDeltasSurvive) {
  Uart a;
  a.out(kIer, kIerRlsi | kIerMsi | kIerThri);
  a.out(kMcr, kMcrLoop | kMcrOut2 | kMcrDtr);  // loopback: DTR -> DSR, OUT2 -> DCD, CTS drops
  for (int i = 0; i < 2; ++i) a.out(kRbrThr, static_cast<uint8_t>('0' + i));  // no FIFO: overrun
  a.serial.pause();
  const auto state = a.save();
  Uart b;
  ASSERT_TRUE(b.restore(state));
  EXPECT_EQ(b.in(kIirFcr), kIirRlsi);
  EXPECT_EQ(b.in(kLsr) & kLsrErrors, kLsrOe);
  EXPECT_EQ(b.in(kRbrThr), '1');
  EXPECT_EQ(b.in(kIirFcr), kIirThri);  // reading IIR clears it
  EXPECT_EQ(b.in(kIirFcr), kIirMsi);
  EXPECT_EQ(b.in(kMsr), kMsrDcts | kMsrDsr | kMsrDcd);  // CTS fell when loopback began
  EXPECT_EQ(b.in(kIirFcr), kIirNoInt);
  EXPECT_EQ(b.serial.input_space(), 0u);  // loopback: no host input
}

TEST(SerialState, PausedInputSurvivesAndInterruptsAfterResume) {
  // Input that arrived while paused is saved with the line still low: the restored UART raises
  // the interrupt when it resumes, so the guest is told about it.
  Uart a;
  linux_setup(a);
  a.serial.pause();
  ASSERT_EQ(a.feed("z"), 1u);
  const auto state = a.save();
  Uart b;
  ASSERT_TRUE(b.restore(state));
  EXPECT_TRUE(b.irq->changes.empty());
  b.serial.resume();
  EXPECT_EQ(b.irq->changes, std::vector<bool>{true});
  EXPECT_EQ(b.in(kRbrThr), 'z');
}

TEST(SerialState, EveryTruncationIsRefused) {
  Uart a;
  linux_setup(a);
  ASSERT_EQ(a.feed("abc"), 3u);
  const auto state = a.save();
  for (size_t len = 0; len < state.size(); ++len) {
    Uart b;
    b.out(kScr, 0x11);
    auto ok = b.restore(std::span(state.data(), len));
    ASSERT_FALSE(ok) << len;
    EXPECT_NE(ok.error().message.find("serial state"), std::string::npos) << ok.error().message;
    EXPECT_EQ(b.in(kScr), 0x11) << len;  // unchanged
    EXPECT_EQ(b.in(kLsr) & kLsrDr, 0) << len;
  }
  std::vector<uint8_t> longer = state;
  longer.push_back(0);
  Uart c;
  EXPECT_FALSE(c.restore(longer));
}

TEST(SerialState, BadValuesAreRefused) {
  Uart a;
  const auto state = a.save();
  // The record: u32 size, then ier lcr mcr fcr scr dll dlm lsr_errors msr_deltas rbr thre irq.
  constexpr size_t kRecord = 4;
  struct Case {
    size_t offset;
    uint8_t value;
    const char* words;
  };
  const Case cases[] = {
      {kRecord + 0, 0x10, "IER"},         {kRecord + 2, 0x20, "MCR"},
      {kRecord + 3, 0x02, "FCR"},         {kRecord + 3, 0x80, "FCR"},
      {kRecord + 7, kLsrDr, "LSR"},       {kRecord + 8, kMsrCts, "MSR"},
      {kRecord + 10, 2, "flags"},         {kRecord + 11, 7, "flags"},
  };
  for (const Case& c : cases) {
    auto bad = state;
    bad[c.offset] = c.value;
    Uart b;
    auto ok = b.restore(bad);
    ASSERT_FALSE(ok) << c.words;
    EXPECT_NE(ok.error().message.find(c.words), std::string::npos) << ok.error().message;
  }
  // A receive backlog above the UART's capacity.
  snapshot::Encoder e;
  auto record = std::vector<uint8_t>(state.begin(), state.begin() + kRecord + 12);
  std::vector<uint8_t> big(Serial::kInputCapacity + 1, 'x');
  e.bytes(big);
  record.insert(record.end(), e.data().begin(), e.data().end());
  Uart b;
  auto ok = b.restore(record);
  ASSERT_FALSE(ok);
  EXPECT_NE(ok.error().message.find("exceeds"), std::string::npos) << ok.error().message;
}

}  // namespace
}  // namespace kiln
