// The legacy virtio-PCI transport (virtio 0.9.5, 2.1 and 2.2.2): the function's identity and BAR,
// every header field as the spec defines it, read-only fields ignoring writes, queue address 0
// releasing a queue, Status 0 resetting the device, the read-to-clear ISR with its level line,
// hostile accesses; then a whole bring-up of virtio-rng by the driver library's LegacyPci.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/pci.h"
#include "virtio/rng/rng.h"
#include "virtio/spec.h"
#include "virtio/transports/pci/pci_legacy_regs.h"
#include "virtio/transports/pci/pci_legacy_transport.h"
#include "virtio_pci_test_util.h"

namespace kiln::virtio {
namespace {

namespace regs = pci_legacy;

class CountingIrq final : public IrqTrigger {
 public:
  void trigger() override { count.fetch_add(1); }
  std::atomic<int> count{0};
};

// Two queues (sizes 16 and 64), 8 config bytes, features in both 32-bit halves; records activation.
class FakeDevice final : public VirtioDevice {
 public:
  std::string_view name() const override { return "fake"; }
  uint32_t device_id() const override { return kIdBlock; }
  uint64_t features() const override { return 0x1'0000'0005; }
  uint16_t num_queues() const override { return 2; }
  uint16_t queue_max_size(uint16_t i) const override { return i == 0 ? 16 : 64; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override { read_config_bytes(config, offset, data); }
  void write_config(uint64_t offset, std::span<const uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) {
      if (offset + i < sizeof(config)) config[offset + i] = data[i];
    }
  }
  Status activate(Activation a) override {
    ++activations;
    queues_set_up = 0;
    for (const auto& q : a.queues) queues_set_up += q.queue ? 1 : 0;
    features_seen = a.features;
    return {};
  }
  void reset() override { ++resets; }
  Status pause() override { return {}; }
  void resume() override {}
  const SplitQueue* active_queue(uint16_t) const override { return nullptr; }
  void save_state(snapshot::Encoder&) const override {}
  Status restore_state(snapshot::Decoder&) override { return {}; }

  uint8_t config[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  int activations = 0;
  int resets = 0;
  int queues_set_up = 0;
  uint64_t features_seen = 0;
};

// BAR 0 of a transport as a bus device, for the driver library.
class Bar0 final : public BusDevice {
 public:
  explicit Bar0(PciLegacyTransport* t) : t_(t) {}
  void read(uint64_t offset, std::span<uint8_t> data) override { t_->bar_read(0, offset, data); }
  void write(uint64_t offset, std::span<const uint8_t> data) override { t_->bar_write(0, offset, data); }

 private:
  PciLegacyTransport* t_;
};

class PciTransportTest : public ::testing::Test {
 protected:
  void make(std::shared_ptr<VirtioDevice> device) {
    const MemoryRange range{GuestAddress(0), 1 * MiB};
    auto m = GuestMemory::create(std::span(&range, 1));
    ASSERT_TRUE(m.has_value());
    mem_ = std::make_unique<GuestMemory>(std::move(*m));
    auto t = PciLegacyTransport::create(*mem_, std::move(device), irq_);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    t_ = *t;
    bar_ = std::make_unique<Bar0>(t_.get());
    driver_ = driver::LegacyPci<driver::BusRegisters>(driver::BusRegisters{bar_.get()});
  }
  void SetUp() override { make(fake_); }
  void TearDown() override {
    if (t_) t_->shutdown();
  }
  driver::BusRegisters& r() { return driver_.regs(); }
  uint32_t cfg32(uint32_t at) {
    uint8_t b[4];
    t_->config().read(at, b);
    uint32_t v;
    std::memcpy(&v, b, 4);
    return v;
  }

  std::shared_ptr<FakeDevice> fake_ = std::make_shared<FakeDevice>();
  std::shared_ptr<CountingIrq> irq_ = std::make_shared<CountingIrq>();
  std::unique_ptr<GuestMemory> mem_;
  std::shared_ptr<PciLegacyTransport> t_;
  std::unique_ptr<Bar0> bar_;
  driver::LegacyPci<driver::BusRegisters> driver_;
};

TEST_F(PciTransportTest, FunctionIdentityAndIoBar) {
  EXPECT_EQ(cfg32(pci::kVendorId), 0x10011af4u) << "blk: transitional device ID 0x1001";
  EXPECT_EQ(cfg32(pci::kRevisionId), 0x01000000u) << "mass storage class, revision 0 (legacy ABI)";
  EXPECT_EQ(cfg32(pci::kSubsystemVendorId), uint32_t{kIdBlock} << 16 | 0x1af4) << "subsystem ID = virtio ID";
  EXPECT_EQ(cfg32(pci::kInterruptLine) >> 8 & 0xff, pci::kPinA);
  ASSERT_TRUE(t_->config().bar(0));
  EXPECT_EQ(t_->config().bar(0)->kind, pci::BarKind::kIo);
  EXPECT_EQ(t_->config().bar(0)->size, regs::kBarSize);
  EXPECT_FALSE(t_->config().bar(1));
}

TEST(PciLegacyIdentity, TransitionalIdsAndClasses) {
  EXPECT_EQ(legacy_pci_identity(kIdRng)->device_id, 0x1005);
  EXPECT_EQ(legacy_pci_identity(kIdConsole)->device_id, 0x1003);
  EXPECT_EQ(legacy_pci_identity(kIdConsole)->class_code, 0x078000u);
  EXPECT_EQ(legacy_pci_identity(kIdNet)->device_id, 0x1000);
  EXPECT_FALSE(legacy_pci_identity(42)) << "no legacy ID";
}

TEST_F(PciTransportTest, FeaturesOnlyTheLowHalfAndOnlyWhatIsOffered) {
  EXPECT_EQ(r().read32(regs::kHostFeatures), 5u) << "bit 32 does not exist on this transport";
  r().write32(regs::kHostFeatures, 0xffffffff);  // read-only
  EXPECT_EQ(r().read32(regs::kHostFeatures), 5u);
  r().write32(regs::kGuestFeatures, 0xffffffff);
  EXPECT_EQ(r().read32(regs::kGuestFeatures), 5u) << "acknowledged bits are a subset of the offered ones";
}

TEST_F(PciTransportTest, QueueRegisters) {
  EXPECT_EQ(r().read16(regs::kQueueSize), 16) << "queue 0 selected after reset";
  r().write16(regs::kQueueSelect, 1);
  EXPECT_EQ(r().read16(regs::kQueueSelect), 1);
  EXPECT_EQ(r().read16(regs::kQueueSize), 64);
  r().write16(regs::kQueueSize, 4);  // read-only: the device's size
  EXPECT_EQ(r().read16(regs::kQueueSize), 64);
  EXPECT_EQ(r().read32(regs::kQueueAddress), 0u);
  r().write32(regs::kQueueAddress, 0x20);
  EXPECT_EQ(r().read32(regs::kQueueAddress), 0x20u);
  r().write16(regs::kQueueSelect, 0);
  EXPECT_EQ(r().read32(regs::kQueueAddress), 0u) << "per queue";
  EXPECT_EQ(r().read16(regs::kQueueNotify), 0);
}

TEST_F(PciTransportTest, QueueAddressZeroReleasesTheQueue) {
  r().write16(regs::kQueueSelect, 0);
  r().write32(regs::kQueueAddress, 0x20);
  r().write16(regs::kQueueSelect, 1);
  r().write32(regs::kQueueAddress, 0x30);
  r().write32(regs::kQueueAddress, 0);
  EXPECT_EQ(r().read32(regs::kQueueAddress), 0u);
  r().write8(regs::kStatus, kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  EXPECT_EQ(fake_->activations, 1);
  EXPECT_EQ(fake_->queues_set_up, 1) << "queue 1 was released";
  r().write32(regs::kQueueAddress, 0x40);  // frozen while the device runs
  EXPECT_EQ(r().read32(regs::kQueueAddress), 0u);
}

TEST_F(PciTransportTest, StatusZeroResetsTheDevice) {
  r().write32(regs::kGuestFeatures, 1);
  r().write32(regs::kQueueAddress, 0x20);
  r().write8(regs::kStatus, kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  EXPECT_EQ(r().read8(regs::kStatus), kStatusAcknowledge | kStatusDriver | kStatusDriverOk);
  EXPECT_EQ(fake_->activations, 1);
  EXPECT_EQ(fake_->features_seen, 1u);
  r().write32(regs::kGuestFeatures, 4);  // ignored while running
  EXPECT_EQ(r().read32(regs::kGuestFeatures), 1u);
  r().write8(regs::kStatus, 0);
  EXPECT_EQ(fake_->resets, 1);
  EXPECT_EQ(r().read8(regs::kStatus), 0);
  EXPECT_EQ(r().read32(regs::kQueueAddress), 0u);
  EXPECT_EQ(r().read32(regs::kGuestFeatures), 0u);
}

TEST_F(PciTransportTest, IsrReadClearsAndTheLevelIsReassertedWhilePending) {
  EXPECT_EQ(r().read8(regs::kIsr), 0);
  t_->used_buffer(0);
  t_->config_changed();
  EXPECT_EQ(irq_->count.load(), 2);
  t_->reassert_if_pending();  // the guest's EOI lowered the line, the ISR still holds bits
  EXPECT_EQ(irq_->count.load(), 3);
  r().write8(regs::kIsr, 0);  // read-only
  EXPECT_EQ(r().read8(regs::kIsr), kInterruptVring | kInterruptConfig);
  EXPECT_EQ(r().read8(regs::kIsr), 0) << "reading cleared it";
  t_->reassert_if_pending();
  EXPECT_EQ(irq_->count.load(), 3) << "nothing pending: the line stays low";
}

TEST_F(PciTransportTest, DeviceConfigurationAfterTheHeader) {
  EXPECT_EQ(r().read32(regs::kConfig), 0x04030201u);
  EXPECT_EQ(r().read8(regs::kConfig + 7), 8);
  EXPECT_EQ(r().read32(regs::kConfig + 6), 0x0807u) << "past the device's bytes: zero";
  r().write8(regs::kConfig + 1, 0x42);
  EXPECT_EQ(fake_->config[1], 0x42);
  uint8_t far[4] = {1, 1, 1, 1};
  t_->bar_read(0, ~uint64_t{0} - 1, far);  // the bus never sends this; still harmless
  EXPECT_EQ(far[0], 0);
  t_->bar_write(0, ~uint64_t{0} - 1, far);
}

TEST_F(PciTransportTest, HostileAccesses) {
  r().write16(regs::kQueueSelect, 0xffff);
  EXPECT_EQ(r().read16(regs::kQueueSize), 0) << "no such queue";
  r().write32(regs::kQueueAddress, 0x20);
  EXPECT_EQ(r().read32(regs::kQueueAddress), 0u);
  r().write16(regs::kQueueNotify, 7);  // no queue 7
  r().write16(regs::kQueueNotify, 1);
  EXPECT_TRUE(t_->notify_events()[1].consume()) << "notify through kiln when KVM did not take it";
  EXPECT_FALSE(t_->notify_events()[0].consume());
  // Wrong widths: a 32-bit read of Queue Size, a 16-bit Status write, a byte of Host Features.
  EXPECT_EQ(r().read32(regs::kQueueSize), 0u);
  r().write16(regs::kStatus, kStatusAcknowledge);
  EXPECT_EQ(r().read8(regs::kStatus), 0);
  EXPECT_EQ(r().read8(regs::kHostFeatures + 1), 0);
  EXPECT_EQ(r().read8(regs::kQueueSelect + 1), 0) << "inside a field, not at its start";
  uint8_t b[8] = {};
  t_->bar_read(1, 0, b);  // no BAR 1
  t_->bar_write(3, 0, b);
  EXPECT_EQ(fake_->activations, 0);
}

TEST_F(PciTransportTest, RngBringUpByTheLegacyPciDriver) {
  auto rng_irq = std::make_shared<CountingIrq>();
  irq_ = rng_irq;
  t_->shutdown();
  make(std::make_shared<Rng>());
  driver::Arena arena(driver::window_of(*mem_, GuestAddress(0x10000), 0x40000));
  EXPECT_EQ(cfg32(pci::kVendorId), 0x10051af4u);
  auto features = driver::negotiate(driver_, driver::bit(driver::kFeatureEventIdx));
  ASSERT_TRUE(features.ok());
  auto queue = driver::setup_queue(driver_, arena, 0, Rng::kQueueSize, driver::ring_options(features.value(), 0));
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(driver::driver_ok(driver_), driver::Error::none);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const driver::Completion c = complete_one_request(*queue, arena, deadline);
  EXPECT_EQ(c.token, 9u);
  EXPECT_EQ(c.len, 32u);
  while (rng_irq->count.load() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_GE(rng_irq->count.load(), 1);
  EXPECT_EQ(driver_.interrupt_status(), kInterruptVring);
  EXPECT_EQ(driver_.interrupt_status(), 0u);
  driver_.reset();
  EXPECT_EQ(driver_.status(), 0);
  EXPECT_EQ(driver_.queue_pfn(0), 0u);
}

}  // namespace
}  // namespace kiln::virtio
