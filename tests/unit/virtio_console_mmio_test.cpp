// virtio-console behind the virtio-mmio transport, driven register by register the way Linux's
// virtio_mmio + virtio_console drivers do (Appendix X, then Appendix E), and by kiln's own
// driver library (drivers/virtio), an independent reading of the spec.
#include <gtest/gtest.h>

#include <cstring>

#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/mmio.h"
#include "virtio/transports/mmio/mmio_regs.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "virtio_console_test_util.h"

namespace kiln::virtio::test {
namespace {

class CountingTrigger final : public IrqTrigger {
 public:
  void trigger() override { ++count; }
  std::atomic<int> count{0};
};

struct MmioGuest {
  MmioGuest() {
    device = std::make_shared<ConsoleDevice>(output.callback(), WindowSize{132, 43});
    irq = std::make_shared<CountingTrigger>();
    transport = *MmioTransport::create(mem, device, irq);
  }
  ~MmioGuest() { transport->shutdown(); }

  uint32_t reg(uint64_t offset) {
    uint32_t v = 0;
    uint8_t bytes[4];
    transport->read(offset, bytes);
    std::memcpy(&v, bytes, 4);
    return v;
  }
  void set(uint64_t offset, uint32_t v) {
    uint8_t bytes[4];
    std::memcpy(bytes, &v, 4);
    transport->write(offset, bytes);
  }
  uint16_t config16(uint64_t offset) {
    uint8_t bytes[2];
    transport->read(mmio::kConfig + offset, bytes);
    return static_cast<uint16_t>(bytes[0] | bytes[1] << 8);
  }
  // Linux's probe: ACKNOWLEDGE, DRIVER, features, both queues, DRIVER_OK.
  void probe(uint32_t acked_features) {
    set(mmio::kStatus, 0);
    set(mmio::kStatus, kStatusAcknowledge);
    set(mmio::kStatus, kStatusAcknowledge | kStatusDriver);
    set(mmio::kGuestFeaturesSel, 0);
    set(mmio::kGuestFeatures, acked_features);
    set(mmio::kGuestPageSize, 4096);
    for (uint32_t q = 0; q < 2; ++q) {
      set(mmio::kQueueSel, q);
      ASSERT_EQ(reg(mmio::kQueueNumMax), ConsoleDevice::kQueueSize);
      set(mmio::kQueueNum, 16);
      set(mmio::kQueueAlign, 4096);
      set(mmio::kQueuePfn, static_cast<uint32_t>((q == 0 ? kRxBase : kTxBase) / 4096));
    }
    set(mmio::kStatus, kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  }

  GuestMemory mem = make_ram();
  DriverQueue rx{mem, kRxBase, 16};
  DriverQueue tx{mem, kTxBase, 16};
  RecordingOutput output;
  std::shared_ptr<ConsoleDevice> device;
  std::shared_ptr<CountingTrigger> irq;
  std::shared_ptr<MmioTransport> transport;
};

TEST(VirtioConsoleMmio, LinuxStyleSession) {
  MmioGuest g;
  EXPECT_EQ(g.reg(mmio::kDeviceId), kIdConsole);
  g.set(mmio::kHostFeaturesSel, 0);
  const uint32_t offered = g.reg(mmio::kHostFeatures);
  EXPECT_NE(offered & (1u << kConsoleFSize), 0u);
  EXPECT_EQ(offered & (1u << kConsoleFMultiport), 0u);
  EXPECT_EQ(g.config16(0), 132);  // cols
  EXPECT_EQ(g.config16(2), 43);   // rows

  EXPECT_EQ(g.device->enqueue_input(bytes_of("ls\r")), 3u);  // typed while the guest boots
  g.rx.add({{kData, 4096, true}});  // the driver fills the receiveq before DRIVER_OK (old Linux)
  g.probe((1u << kConsoleFSize) | (1u << kFRingEventIdx));
  // DRIVER_OK: the size is announced, and the early input lands in the posted buffer.
  EXPECT_NE(g.reg(mmio::kInterruptStatus) & kInterruptConfig, 0u);
  ASSERT_TRUE(eventually([&] { return g.rx.used_idx() == 1; }));
  EXPECT_EQ(g.rx.used(0).len, 3u);
  std::vector<uint8_t> got(3);
  ASSERT_TRUE(g.mem.read(GuestAddress(kData), got));
  EXPECT_EQ(text_of(got), "ls\r");
  ASSERT_TRUE(eventually([&] { return (g.reg(mmio::kInterruptStatus) & kInterruptVring) != 0; }));
  g.set(mmio::kInterruptAck, kInterruptVring | kInterruptConfig);

  // Output: a chain, then QueueNotify with the transmitq's index.
  ASSERT_TRUE(g.mem.write(GuestAddress(kData + 8192), bytes_of("login: ")));
  g.tx.add({{kData + 8192, 7}});
  g.set(mmio::kQueueNotify, 1);
  ASSERT_TRUE(eventually([&] { return g.output.size() == 7; }));
  EXPECT_EQ(text_of(g.output.bytes()), "login: ");

  // SIGWINCH.
  g.device->set_size(100, 30);
  EXPECT_NE(g.reg(mmio::kInterruptStatus) & kInterruptConfig, 0u);
  EXPECT_EQ(g.config16(0), 100);
  EXPECT_EQ(g.config16(2), 30);

  // The driver resets the device: pending input stays for the next driver.
  g.set(mmio::kStatus, 0);
  EXPECT_EQ(g.device->enqueue_input(bytes_of("x")), 1u);
  EXPECT_EQ(g.device->input_space(), ConsoleDevice::kInputCapacity - 1);
}

TEST(VirtioConsoleMmio, SizeNotAnnouncedWithoutTheFeature) {
  MmioGuest g;
  const int before = g.irq->count.load();
  g.probe(0);
  g.device->set_size(1, 1);
  EXPECT_EQ(g.reg(mmio::kInterruptStatus) & kInterruptConfig, 0u);
  EXPECT_EQ(g.irq->count.load(), before);
}

TEST(VirtioConsoleMmio, DriverLibrarySession) {
  namespace drv = kiln::driver;
  MmioGuest g;
  drv::Arena arena(drv::window_of(g.mem, GuestAddress(2 * MiB), 1 * MiB));
  drv::LegacyMmio<drv::BusRegisters> t(drv::BusRegisters{g.transport.get()});
  drv::MmioIdentity id;
  ASSERT_EQ(t.identify(id), drv::Error::none);
  ASSERT_EQ(id.device_id, drv::kDeviceConsole);
  auto accepted = drv::negotiate(
      t, drv::bit(drv::console::kFeatureSize) | drv::bit(drv::kFeatureEventIdx) | drv::bit(drv::kFeatureIndirectDesc));
  ASSERT_TRUE(accepted.ok());
  ASSERT_EQ(*accepted & drv::bit(drv::console::kFeatureMultiport), 0u);
  const drv::RingOptions opts = drv::ring_options(*accepted, 8);
  auto rq = drv::setup_queue(t, arena, drv::console::kReceiveQueue, 64, opts);
  auto tq = drv::setup_queue(t, arena, drv::console::kTransmitQueue, 64, opts);
  ASSERT_TRUE(rq.ok());
  ASSERT_TRUE(tq.ok());
  ASSERT_EQ(drv::driver_ok(t), drv::Error::none);
  EXPECT_EQ(t.config16(0), 132);
  EXPECT_EQ(t.config16(2), 43);

  // Receive: eight 16-byte buffers, reposted as they come back (as Linux's hvc driver does).
  auto rx = arena.allocate(8 * 16, 16);
  ASSERT_TRUE(rx.ok());
  for (uint64_t i = 0; i < 8; ++i) {
    const drv::Segment seg{rx->phys + i * 16, 16};
    ASSERT_TRUE(rq->add(&seg, 0, 1, i).ok());
  }
  rq->kick();
  const std::string typed = "the quick brown fox jumps over the lazy dog, twice over: the quick brown fox\r";
  EXPECT_EQ(g.device->enqueue_input(bytes_of(typed)), typed.size());
  std::string received;
  while (received.size() < typed.size()) {
    drv::Completion c;
    ASSERT_TRUE(eventually([&] { return rq->poll(c) == drv::Poll::done; }));
    ASSERT_LE(c.len, c.writable);
    received.append(reinterpret_cast<const char*>(rx->host + c.token * 16), c.len);
    const drv::Segment seg{rx->phys + c.token * 16, 16};
    ASSERT_TRUE(rq->add(&seg, 0, 1, c.token).ok());
    rq->kick();
  }
  EXPECT_EQ(received, typed);

  // Transmit: one line at a time, each waited for (hvc's put_chars), some split in two buffers.
  auto tx = arena.allocate(64, 16);
  ASSERT_TRUE(tx.ok());
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string line = "#" + std::to_string(i) + "\n";
    std::memcpy(tx->host, line.data(), line.size());
    const uint32_t len = static_cast<uint32_t>(line.size());
    const drv::Segment split[2] = {{tx->phys, 1}, {tx->phys + 1, len - 1}};
    const drv::Segment whole{tx->phys, len};
    ASSERT_TRUE((i % 2 == 0 ? tq->add(split, 2, 0, 0) : tq->add(&whole, 1, 0, 0)).ok());
    expected += line;
    tq->kick();
    drv::Completion c;
    ASSERT_TRUE(eventually([&] { return tq->poll(c) == drv::Poll::done; }));
    EXPECT_EQ(c.len, 0u);
  }
  ASSERT_TRUE(eventually([&] { return g.output.size() == expected.size(); }));
  EXPECT_EQ(text_of(g.output.bytes()), expected);
  t.reset();
}

}  // namespace
}  // namespace kiln::virtio::test
