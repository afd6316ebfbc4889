// The virtio-mmio transport (Appendix X) through its bus interface, driven by the driver-side
// library as a guest driver would, with virtio-rng as the device behind it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/mmio.h"
#include "virtio/rng/rng.h"
#include "virtio/spec.h"
#include "virtio/transports/mmio/mmio_regs.h"
#include "virtio/transports/mmio/mmio_transport.h"

namespace kiln::virtio {
namespace {

using Driver = driver::LegacyMmio<driver::BusRegisters>;

class CountingIrq final : public IrqTrigger {
 public:
  void trigger() override { count.fetch_add(1); }
  std::atomic<int> count{0};
};

class MmioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const MemoryRange range{GuestAddress(0), 1 * MiB};
    auto m = GuestMemory::create(std::span(&range, 1));
    ASSERT_TRUE(m.has_value());
    mem_ = std::make_unique<GuestMemory>(std::move(*m));
    irq_ = std::make_shared<CountingIrq>();
    auto t = MmioTransport::create(*mem_, std::make_shared<Rng>(), irq_);
    ASSERT_TRUE(t.has_value());
    transport_ = *t;
    driver_ = Driver(driver::BusRegisters{transport_.get()});
    arena_ = driver::Arena(driver::window_of(*mem_, GuestAddress(0x10000), 0x40000));
  }
  void TearDown() override { transport_->shutdown(); }

  uint32_t reg(uint64_t offset) { return driver_.regs().read32(static_cast<uint32_t>(offset)); }
  void set_reg(uint64_t offset, uint32_t v) { driver_.regs().write32(static_cast<uint32_t>(offset), v); }

  std::unique_ptr<GuestMemory> mem_;
  std::shared_ptr<CountingIrq> irq_;
  std::shared_ptr<MmioTransport> transport_;
  Driver driver_;
  driver::Arena arena_;
};

TEST_F(MmioTest, IdentityRegisters) {
  driver::MmioIdentity id;
  EXPECT_EQ(driver_.identify(id), driver::Error::none);
  EXPECT_EQ(id.magic, 0x74726976u);
  EXPECT_EQ(id.version, 1u);
  EXPECT_EQ(id.device_id, kIdRng);
  EXPECT_EQ(id.vendor_id, mmio::kVendor);
}

TEST_F(MmioTest, FeatureWindowsAndAcknowledgedSubset) {
  const uint64_t offered = driver_.host_features();
  EXPECT_EQ(offered, feature(kFRingIndirectDesc) | feature(kFRingEventIdx));
  set_reg(mmio::kHostFeaturesSel, 7);
  EXPECT_EQ(reg(mmio::kHostFeatures), 0u) << "windows beyond 1 are empty";
}

TEST_F(MmioTest, QueueRegistersReadBackAndResetClearsThem) {
  set_reg(mmio::kQueueSel, 1);
  EXPECT_EQ(reg(mmio::kQueueNumMax), 0u) << "rng has one queue";
  set_reg(mmio::kQueueSel, 0);
  EXPECT_EQ(reg(mmio::kQueueNumMax), Rng::kQueueSize);
  set_reg(mmio::kQueueNum, 16);
  set_reg(mmio::kQueuePfn, 0x20);
  EXPECT_EQ(reg(mmio::kQueuePfn), 0x20u);
  set_reg(mmio::kStatus, kStatusAcknowledge);
  EXPECT_EQ(reg(mmio::kStatus), kStatusAcknowledge);
  set_reg(mmio::kStatus, 0);
  EXPECT_EQ(reg(mmio::kStatus), 0u);
  EXPECT_EQ(reg(mmio::kQueuePfn), 0u) << "reset forgets the queue";
}

TEST_F(MmioTest, ReadOnlyRegistersAndOddWidthsAreIgnored) {
  set_reg(mmio::kMagicValue, 0);
  set_reg(mmio::kDeviceId, 9);
  EXPECT_EQ(reg(mmio::kMagicValue), mmio::kMagic);
  EXPECT_EQ(reg(mmio::kDeviceId), kIdRng);
  uint8_t byte = 0x55;
  transport_->read(mmio::kMagicValue, std::span(&byte, 1));
  EXPECT_EQ(byte, 0) << "registers answer 32-bit reads only";
  const uint8_t two[2] = {4, 0};
  transport_->write(mmio::kStatus, std::span(two, 2));
  EXPECT_EQ(reg(mmio::kStatus), 0u);
  EXPECT_EQ(reg(0x0fc), 0u) << "reserved registers read as zero";
}

TEST_F(MmioTest, NotifyForMissingQueueIsHarmless) {
  set_reg(mmio::kQueueNotify, 5);
  set_reg(mmio::kQueueNotify, 0xffffffff);
  EXPECT_EQ(reg(mmio::kMagicValue), mmio::kMagic);
}

TEST_F(MmioTest, BadQueueSizeRefusesDriverOk) {
  auto features = driver::negotiate(driver_, 0);
  ASSERT_TRUE(features.ok());
  set_reg(mmio::kQueueSel, 0);
  set_reg(mmio::kQueueNum, 6);  // not a power of two
  set_reg(mmio::kQueuePfn, 0x20);
  EXPECT_EQ(driver::driver_ok(driver_), driver::Error::device_failed);
  EXPECT_NE(reg(mmio::kStatus) & kStatusNeedsReset, 0u);
  set_reg(mmio::kStatus, 0);  // and the driver can start over
  EXPECT_EQ(reg(mmio::kStatus), 0u);
}

TEST_F(MmioTest, RngFillsBuffersAndInterrupts) {
  auto features = driver::negotiate(driver_, feature(kFRingEventIdx));
  ASSERT_TRUE(features.ok());
  auto queue = driver::setup_queue(driver_, arena_, 0, 64, driver::ring_options(features.value(), 0));
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(driver::driver_ok(driver_), driver::Error::none);

  auto a = arena_.allocate(64, 16);
  auto b = arena_.allocate(64, 16);
  ASSERT_TRUE(a.ok() && b.ok());
  const driver::Segment sa{a->phys, 64};
  const driver::Segment sb{b->phys, 64};
  ASSERT_TRUE(queue->add(&sa, 0, 1, 1).ok());
  ASSERT_TRUE(queue->add(&sb, 0, 1, 2).ok());
  EXPECT_TRUE(queue->kick());

  int done = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (done < 2 && std::chrono::steady_clock::now() < deadline) {
    driver::Completion c;
    if (queue->poll(c) == driver::Poll::done) {
      EXPECT_EQ(c.len, 64u);
      ++done;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ASSERT_EQ(done, 2);
  EXPECT_NE(std::memcmp(a->host, b->host, 64), 0) << "two buffers of entropy are not equal";
  while (irq_->count.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_GE(irq_->count.load(), 1);
  EXPECT_EQ(driver_.interrupt_status() & kInterruptVring, kInterruptVring);
  driver_.ack_interrupt(kInterruptVring);
  EXPECT_EQ(driver_.interrupt_status(), 0u);

  // Reset while running: the device stops, the registers clear.
  driver_.reset();
  EXPECT_EQ(reg(mmio::kStatus), 0u);
  EXPECT_EQ(driver_.queue_pfn(0), 0u);
}

}  // namespace
}  // namespace kiln::virtio
