// Register-level tests of the 16550A, in the spirit of Fuchsia's i8250 unit tests: each test drives
// the ports the way Linux's 8250 driver does and checks what the guest and the IRQ line see.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "devices/serial.h"
#include "devices/uart_regs.h"
#include "fake_irq_line.h"

namespace kiln {
namespace {

using namespace uart;

class SerialTest : public testing::Test {
 protected:
  uint8_t in(uint64_t offset) {
    uint8_t b = 0;
    uart_.read(offset, std::span(&b, 1));
    return b;
  }
  void out(uint64_t offset, uint8_t value) { uart_.write(offset, std::span(&value, 1)); }
  size_t feed(const std::string& s) {
    return uart_.enqueue_input(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }
  std::string output() const { return std::string(output_.begin(), output_.end()); }

  std::shared_ptr<FakeIrqLine> irq_ = std::make_shared<FakeIrqLine>();
  std::vector<uint8_t> output_;
  Serial uart_{irq_, [this](std::span<const uint8_t> b) { output_.insert(output_.end(), b.begin(), b.end()); }};
};

TEST_F(SerialTest, ResetValues) {
  EXPECT_EQ(in(kIer), 0x00);
  EXPECT_EQ(in(kIirFcr), kIirNoInt);
  EXPECT_EQ(in(kLcr), 0x00);
  EXPECT_EQ(in(kMcr), 0x00);
  EXPECT_EQ(in(kLsr), kLsrThre | kLsrTemt);
  EXPECT_EQ(in(kMsr), kMsrDcd | kMsrDsr | kMsrCts);
  EXPECT_EQ(in(kScr), 0x00);
  EXPECT_TRUE(irq_->changes.empty());
  EXPECT_EQ(uart_.input_space(), Serial::kInputCapacity);
}

TEST_F(SerialTest, ScratchRoundTrips) {
  for (uint8_t v : {0x55, 0xaa, 0x00, 0xff}) {
    out(kScr, v);
    EXPECT_EQ(in(kScr), v);
  }
}

TEST_F(SerialTest, LcrReadsBackAndDlabSelectsTheDivisorLatch) {
  out(kLcr, 0x1b);  // 8 bits, even parity, 1 stop bit
  EXPECT_EQ(in(kLcr), 0x1b);

  out(kLcr, kLcrDlab | 0x03);
  EXPECT_EQ(in(kDll), 0x0c);  // 9600 baud until the guest programs it
  EXPECT_EQ(in(kDlm), 0x00);
  out(kDll, 0x01);            // 115200 baud
  out(kDlm, 0x02);
  EXPECT_EQ(in(kDll), 0x01);
  EXPECT_EQ(in(kDlm), 0x02);
  EXPECT_TRUE(output_.empty());  // the DLL write did not transmit

  out(kLcr, 0x03);
  EXPECT_EQ(in(kIer), 0x00);  // IER, not DLM
  out(kRbrThr, 'x');
  EXPECT_EQ(output(), "x");
  out(kLcr, kLcrDlab);
  EXPECT_EQ(in(kDll), 0x01);
  EXPECT_EQ(in(kDlm), 0x02);
}

TEST_F(SerialTest, IerKeepsOnlyTheLowNibble) {
  // Linux's autoconfig writes 0x0f and expects 0x0f, and writes 0 and expects 0.
  out(kIer, 0xff);
  EXPECT_EQ(in(kIer), 0x0f);
  out(kIer, 0x00);
  EXPECT_EQ(in(kIer), 0x00);
}

TEST_F(SerialTest, McrKeepsFiveBits) {
  out(kMcr, 0xff);
  EXPECT_EQ(in(kMcr), kMcrMask);
}

TEST_F(SerialTest, ThrWritesReachTheOutputAndTheTransmitterStaysEmpty) {
  for (char c : std::string("hello\r\n")) {
    out(kRbrThr, static_cast<uint8_t>(c));
    EXPECT_EQ(in(kLsr) & (kLsrThre | kLsrTemt), kLsrThre | kLsrTemt);
  }
  EXPECT_EQ(output(), "hello\r\n");
}

TEST_F(SerialTest, FifoEnableShowsInIir) {
  out(kIirFcr, kFcrEnable);
  EXPECT_EQ(in(kIirFcr), kIirFifoEnabled | kIirNoInt);
  out(kIirFcr, kFcrEnable | 0xc0);  // trigger level 14
  EXPECT_EQ(in(kIirFcr), kIirFifoEnabled | kIirNoInt);
  out(kIirFcr, 0);
  EXPECT_EQ(in(kIirFcr), kIirNoInt);
}

TEST_F(SerialTest, ReceivedDataSetsDrAndRaisesTheRxInterrupt) {
  out(kMcr, kMcrOut2);
  out(kIer, kIerRdi);
  EXPECT_EQ(in(kIirFcr), kIirNoInt);
  EXPECT_EQ(feed("ab"), 2u);
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(in(kIirFcr), kIirRdi);
  EXPECT_TRUE(irq_->level);
  EXPECT_EQ(in(kRbrThr), 'a');
  EXPECT_EQ(in(kIirFcr), kIirRdi);  // still one byte
  EXPECT_EQ(in(kRbrThr), 'b');
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
  EXPECT_EQ(in(kIirFcr), kIirNoInt);
  EXPECT_FALSE(irq_->level);
  EXPECT_EQ(irq_->changes, (std::vector<bool>{true, false}));
  EXPECT_EQ(in(kRbrThr), 'b');  // an empty receiver repeats the last byte
}

TEST_F(SerialTest, DataWithoutIerRdiRaisesNothing) {
  out(kMcr, kMcrOut2);
  ASSERT_EQ(feed("x"), 1u);
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(in(kIirFcr), kIirNoInt);
  EXPECT_TRUE(irq_->changes.empty());
}

TEST_F(SerialTest, ThreInterruptFollowsTheDatasheet) {
  out(kMcr, kMcrOut2);
  out(kIer, kIerThri);  // enabling with THR empty raises it at once
  EXPECT_TRUE(irq_->level);
  EXPECT_EQ(in(kIirFcr), kIirThri);  // reading IIR that reports THRE clears it
  EXPECT_FALSE(irq_->level);
  EXPECT_EQ(in(kIirFcr), kIirNoInt);
  out(kRbrThr, 'a');  // after a write THR empties again
  EXPECT_TRUE(irq_->level);
  EXPECT_EQ(in(kIirFcr), kIirThri);
  out(kIer, 0);
  EXPECT_EQ(in(kIirFcr), kIirNoInt);
  // Linux's UART_BUG_THRE test: toggling IER.THRI must re-assert THRE each time.
  out(kIer, kIerThri);
  EXPECT_EQ(in(kIirFcr), kIirThri);
  out(kIer, 0);
  out(kIer, kIerThri);
  EXPECT_EQ(in(kIirFcr), kIirThri);
  EXPECT_EQ(irq_->changes, (std::vector<bool>{true, false, true, false, true, false, true, false}));
}

TEST_F(SerialTest, Out2GatesTheIrqLine) {
  out(kIer, kIerRdi);
  ASSERT_EQ(feed("x"), 1u);
  EXPECT_EQ(in(kIirFcr), kIirRdi);  // pending...
  EXPECT_TRUE(irq_->changes.empty());  // ...but not on the line
  out(kMcr, kMcrOut2 | kMcrDtr | kMcrRts);
  EXPECT_EQ(irq_->changes, (std::vector<bool>{true}));
  out(kMcr, kMcrDtr | kMcrRts);
  EXPECT_EQ(irq_->changes, (std::vector<bool>{true, false}));
}

TEST_F(SerialTest, LevelChangesOnlyWhenItChanges) {
  out(kMcr, kMcrOut2);
  out(kIer, kIerRdi);
  ASSERT_EQ(feed("a"), 1u);
  ASSERT_EQ(feed("b"), 1u);
  out(kScr, 1);
  (void)in(kLsr);
  (void)in(kRbrThr);
  EXPECT_EQ(irq_->changes, (std::vector<bool>{true}));
  (void)in(kRbrThr);
  EXPECT_EQ(irq_->changes, (std::vector<bool>{true, false}));
}

TEST_F(SerialTest, IirPriorities) {
  out(kIirFcr, kFcrEnable);
  out(kMcr, kMcrLoop | kMcrOut2);  // CTS and DSR drop: DCTS | DDSR latched
  for (int i = 0; i < static_cast<int>(Serial::kFifoSize) + 1; ++i) out(kRbrThr, static_cast<uint8_t>(i));  // overrun
  out(kIer, kIerRdi | kIerThri | kIerRlsi | kIerMsi);
  EXPECT_TRUE(irq_->level);

  EXPECT_EQ(in(kIirFcr), kIirFifoEnabled | kIirRlsi);
  EXPECT_EQ(in(kLsr), kLsrDr | kLsrOe | kLsrThre | kLsrTemt);  // clears OE
  EXPECT_EQ(in(kIirFcr), kIirFifoEnabled | kIirRdi);
  for (size_t i = 0; i < Serial::kFifoSize; ++i) EXPECT_EQ(in(kRbrThr), i);
  EXPECT_EQ(in(kIirFcr), kIirFifoEnabled | kIirThri);  // clears THRE
  EXPECT_EQ(in(kIirFcr), kIirFifoEnabled | kIirMsi);
  EXPECT_EQ(in(kMsr), kMsrDcd | kMsrDcts | kMsrDdsr);  // clears the deltas
  EXPECT_EQ(in(kIirFcr), kIirFifoEnabled | kIirNoInt);
  EXPECT_EQ(irq_->changes, (std::vector<bool>{true, false}));
}

TEST_F(SerialTest, LoopbackRoutesTxToRxAndMcrToMsr) {
  out(kIirFcr, kFcrEnable);
  out(kMcr, kMcrLoop | kMcrOut2 | kMcrRts);  // Linux's autoconfig: MSR & 0xf0 must read 0x90
  EXPECT_EQ(in(kMsr) & 0xf0, 0x90);
  out(kMcr, kMcrLoop | kMcrDtr | kMcrOut1);
  EXPECT_EQ(in(kMsr) & 0xf0, kMsrDsr | kMsrRi);
  out(kRbrThr, 'z');
  EXPECT_TRUE(output_.empty());
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  EXPECT_EQ(in(kRbrThr), 'z');
  EXPECT_EQ(feed("host"), 0u);  // the receive pin is disconnected in loopback
  EXPECT_EQ(uart_.input_space(), 0u);
  out(kMcr, kMcrLoop | kMcrDtr);  // RI falls: trailing-edge delta
  EXPECT_EQ(in(kMsr) & kMsrTeri, kMsrTeri);
  EXPECT_EQ(in(kMsr) & kMsrTeri, 0);
  out(kMcr, kMcrOut2);
  EXPECT_EQ(in(kMsr) & 0xf0, kMsrDcd | kMsrDsr | kMsrCts);
  EXPECT_EQ(feed("host"), 4u);
  out(kRbrThr, '!');
  EXPECT_EQ(output(), "!");
}

TEST_F(SerialTest, LoopbackOverrunWithoutFifoOverwrites) {
  out(kMcr, kMcrLoop);
  out(kRbrThr, 1);
  out(kRbrThr, 2);
  EXPECT_EQ(in(kLsr), kLsrDr | kLsrOe | kLsrThre | kLsrTemt);
  EXPECT_EQ(in(kLsr), kLsrDr | kLsrThre | kLsrTemt);  // OE clears on read
  EXPECT_EQ(in(kRbrThr), 2);
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
}

TEST_F(SerialTest, HostInputIsBoundedAndRefusedBytesAreLeftToTheCaller) {
  std::string big(Serial::kInputCapacity + 10, 'q');
  big[0] = 'a';
  EXPECT_EQ(feed(big), Serial::kInputCapacity);
  EXPECT_EQ(uart_.input_space(), 0u);
  EXPECT_EQ(feed("more"), 0u);
  EXPECT_FALSE(uart_.wait_for_input_space(std::chrono::milliseconds(1)));
  EXPECT_EQ(in(kLsr) & (kLsrDr | kLsrOe), kLsrDr);  // no overrun: the guest lost nothing
  EXPECT_EQ(in(kRbrThr), 'a');
  EXPECT_EQ(uart_.input_space(), 1u);
  EXPECT_TRUE(uart_.wait_for_input_space(std::chrono::milliseconds(0)));
  EXPECT_EQ(feed("xy"), 1u);
}

TEST_F(SerialTest, WaitForInputSpaceWakesWhenTheGuestReads) {
  ASSERT_EQ(feed(std::string(Serial::kInputCapacity, 'w')), Serial::kInputCapacity);
  std::atomic<bool> woke{false};
  std::thread waiter([&] { woke = uart_.wait_for_input_space(std::chrono::seconds(10)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  (void)in(kRbrThr);
  waiter.join();
  EXPECT_TRUE(woke);
}

TEST_F(SerialTest, FcrClearsTheReceiver) {
  out(kIirFcr, kFcrEnable);
  ASSERT_EQ(feed("abc"), 3u);
  out(kIirFcr, kFcrEnable | kFcrClearRx | kFcrClearTx);
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
  ASSERT_EQ(feed("d"), 1u);
  out(kIirFcr, kFcrEnable);  // no clear bit, FIFO stays on: data stays
  EXPECT_EQ(in(kLsr) & kLsrDr, kLsrDr);
  out(kIirFcr, 0);  // turning FIFOs off resets them
  EXPECT_EQ(in(kLsr) & kLsrDr, 0);
}

// The probe in Linux's drivers/tty/serial/8250/8250_port.c (autoconfig, autoconfig_16550a, size_fifo),
// replayed: kiln's UART must come out as a 16550A with a 16-byte FIFO.
TEST_F(SerialTest, LinuxAutoconfigFindsA16550A) {
  // IER test.
  const uint8_t saved_ier = in(kIer);
  out(kIer, 0);
  const uint8_t s2 = in(kIer) & 0x0f;
  out(kIer, 0x0f);
  const uint8_t s3 = in(kIer) & 0x0f;
  out(kIer, saved_ier);
  ASSERT_EQ(s2, 0);
  ASSERT_EQ(s3, 0x0f);
  // Loopback test.
  const uint8_t save_mcr = in(kMcr);
  out(kMcr, kMcrLoop | 0x0a);
  ASSERT_EQ(in(kMsr) & 0xf0, 0x90);
  out(kMcr, save_mcr);
  // FIFO type: LCR 0xbf, EFR (offset 2) = 0, LCR 0, FCR enable, IIR >> 6 == 3.
  out(kLcr, 0xbf);
  out(kIirFcr, 0);
  out(kLcr, 0);
  out(kIirFcr, kFcrEnable);
  ASSERT_EQ(in(kIirFcr) >> 6, 3);
  // Not a 16C650: with LCR 0x80 and 0xbf, "EFR" (IIR here) does not read 0.
  out(kLcr, 0x80);
  EXPECT_NE(in(kIirFcr), 0);
  out(kLcr, 0xbf);
  EXPECT_NE(in(kIirFcr), 0);
  // Not an XScale: IER bit 6 does not stick.
  out(kLcr, 0);
  out(kIer, 0x40);
  EXPECT_EQ(in(kIer) & 0x40, 0);
  out(kIer, 0);
  // size_fifo: loopback, clear FIFOs, divisor 1, blast 256 bytes, count what comes back.
  out(kIirFcr, kFcrEnable | kFcrClearRx | kFcrClearTx);
  out(kMcr, kMcrLoop);
  out(kLcr, kLcrDlab);
  out(kDll, 1);
  out(kDlm, 0);
  out(kLcr, 0x03);
  for (int i = 0; i < 256; ++i) out(kRbrThr, static_cast<uint8_t>(i));
  int count = 0;
  while ((in(kLsr) & kLsrDr) != 0 && count < 256) {
    EXPECT_EQ(in(kRbrThr), count);
    ++count;
  }
  EXPECT_EQ(count, 16);
  out(kMcr, save_mcr);
  EXPECT_TRUE(output_.empty());  // nothing of the probe leaked to the console
}

TEST_F(SerialTest, WideAccessesActAsConsecutiveBytes) {
  out(kLcr, 0x03);
  out(kMcr, kMcrOut2);
  uint8_t two[2] = {};
  uart_.read(kLcr, two);
  EXPECT_EQ(two[0], 0x03);
  EXPECT_EQ(two[1], kMcrOut2);
  uint8_t beyond = 0;
  uart_.read(8, std::span(&beyond, 1));
  EXPECT_EQ(beyond, 0xff);
}

TEST(Serial, ConcurrentWritersAndInputLoseNothing) {
  std::mutex mu;
  size_t written = 0;
  auto uart = std::make_shared<Serial>(nullptr, [&](std::span<const uint8_t> b) {
    std::lock_guard lock(mu);
    written += b.size();
  });
  constexpr int kPerThread = 2000;
  auto writer = [&] {
    for (int i = 0; i < kPerThread; ++i) {
      const uint8_t c = 'w';
      uart->write(kRbrThr, std::span(&c, 1));
    }
  };
  std::atomic<size_t> received{0};
  std::thread t1(writer), t2(writer);
  std::thread feeder([&] {
    const uint8_t c = 'r';
    for (int i = 0; i < kPerThread; ++i) {
      while (uart->enqueue_input(std::span(&c, 1)) == 0) std::this_thread::yield();
    }
  });
  std::thread reader([&] {
    while (received < kPerThread) {
      uint8_t lsr = 0;
      uart->read(kLsr, std::span(&lsr, 1));
      if ((lsr & kLsrDr) == 0) continue;
      uint8_t b = 0;
      uart->read(kRbrThr, std::span(&b, 1));
      EXPECT_EQ(b, 'r');
      ++received;
    }
  });
  t1.join();
  t2.join();
  feeder.join();
  reader.join();
  EXPECT_EQ(written, 2u * kPerThread);
  EXPECT_EQ(received, static_cast<size_t>(kPerThread));
}

}  // namespace
}  // namespace kiln
