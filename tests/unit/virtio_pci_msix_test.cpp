// MSI-X on the legacy virtio-PCI transport (virtio 0.9.5 2.2.2, PCI Local Bus 3.0 6.8.2): the
// capability and BAR 1, the vector registers and the device configuration moving from 20 to 24
// with MSI-X enabled (and back), vectors read back as accepted (VIRTIO_MSI_NO_VECTOR otherwise),
// interrupts through the queue's and the configuration vector, masking with pending delivery,
// INTx Disable and Interrupt Status, reset, the snapshot record, and virtio-rng on its own
// thread brought up by the driver library with its completion on the queue's vector.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/pci.h"
#include "pci/msix.h"
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

// Device threads signal: the lists are guarded (read them through signals_now() while one runs).
class RecordingSink final : public pci::MsiSink {
 public:
  void set_route(uint16_t vector, const pci::MsiMessage& m) override {
    std::lock_guard lock(mu);
    routes.push_back({vector, m});
  }
  void signal(uint16_t vector) override {
    std::lock_guard lock(mu);
    signals.push_back(vector);
  }
  std::vector<uint16_t> signals_now() {
    std::lock_guard lock(mu);
    return signals;
  }
  std::mutex mu;
  std::vector<std::pair<uint16_t, pci::MsiMessage>> routes;
  std::vector<uint16_t> signals;
};

// Two queues, 8 config bytes; nothing else matters here.
class TwoQueues final : public VirtioDevice {
 public:
  std::string_view name() const override { return "two"; }
  uint32_t device_id() const override { return kIdConsole; }
  uint64_t features() const override { return 0; }
  uint16_t num_queues() const override { return 2; }
  uint16_t queue_max_size(uint16_t) const override { return 16; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override { read_config_bytes(config, offset, data); }
  void write_config(uint64_t, std::span<const uint8_t>) override {}
  Status activate(Activation) override { return {}; }
  void reset() override {}
  Status pause() override { return {}; }
  void resume() override {}
  const SplitQueue* active_queue(uint16_t) const override { return nullptr; }
  void save_state(snapshot::Encoder&) const override {}
  Status restore_state(snapshot::Decoder&) override { return {}; }
  uint8_t config[8] = {1, 2, 3, 4, 5, 6, 7, 8};
};

class PciMsixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const MemoryRange range{GuestAddress(0), 1 * MiB};
    auto m = GuestMemory::create(std::span(&range, 1));
    ASSERT_TRUE(m.has_value());
    mem_ = std::make_unique<GuestMemory>(std::move(*m));
    auto t = PciLegacyTransport::create(*mem_, std::make_shared<TwoQueues>(), irq_, sink_);
    ASSERT_TRUE(t.has_value()) << t.error().message;
    t_ = *t;
    cap_ = t_->msix_capability();
  }
  void TearDown() override { t_->shutdown(); }

  uint32_t cfg(uint32_t at, size_t size) {
    uint8_t b[4] = {};
    t_->config_read(at, std::span(b, size));
    uint32_t v = 0;
    std::memcpy(&v, b, size);
    return v;
  }
  void set_cfg(uint32_t at, uint32_t value, size_t size) {
    uint8_t b[4];
    std::memcpy(b, &value, 4);
    t_->config_write(at, std::span<const uint8_t>(b, size));
  }
  uint32_t io(uint64_t at, size_t size) {
    uint8_t b[4] = {};
    t_->bar_read(0, at, std::span(b, size));
    uint32_t v = 0;
    std::memcpy(&v, b, size);
    return v;
  }
  void set_io(uint64_t at, uint32_t value, size_t size) {
    uint8_t b[4];
    std::memcpy(b, &value, 4);
    t_->bar_write(0, at, std::span<const uint8_t>(b, size));
  }
  void table(uint64_t at, uint32_t value) {
    uint8_t b[4];
    std::memcpy(b, &value, 4);
    t_->bar_write(regs::kMsixBar, at, b);
  }
  // MSI-X on (function unmasked), vector v programmed and unmasked.
  void enable() { set_cfg(cap_ + 2, pci::kMsixEnable, 2); }
  void program(uint16_t v, uint32_t data) {
    table(v * 16, 0xfee00000);
    table(v * 16 + 4, 0);
    table(v * 16 + 8, data);
    table(v * 16 + 12, 0);
  }

  std::shared_ptr<CountingIrq> irq_ = std::make_shared<CountingIrq>();
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
  std::unique_ptr<GuestMemory> mem_;
  std::shared_ptr<PciLegacyTransport> t_;
  uint32_t cap_ = 0;
};

TEST_F(PciMsixTest, CapabilityAndBar1) {
  EXPECT_NE(cfg(pci::kStatus, 2) & pci::kStatusCapabilitiesList, 0u);
  EXPECT_EQ(cfg(pci::kCapabilitiesPointer, 1), cap_);
  EXPECT_EQ(cap_, pci::kFirstCapability);
  EXPECT_EQ(cfg(cap_, 1), pci::kCapabilityMsix);
  EXPECT_EQ(cfg(cap_ + 1, 1), 0u) << "the only capability";
  EXPECT_EQ(cfg(cap_ + 2, 2), 2u) << "3 vectors: 2 queues + configuration (N-1)";
  EXPECT_EQ(cfg(cap_ + 4, 4), 1u) << "table at offset 0 of BAR 1";
  EXPECT_EQ(cfg(cap_ + 8, 4), regs::kMsixPbaOffset | 1) << "PBA in BAR 1";
  ASSERT_TRUE(t_->config().bar(1));
  EXPECT_EQ(t_->config().bar(1)->kind, pci::BarKind::kMemory32);
  EXPECT_EQ(t_->config().bar(1)->size, regs::kMsixBarSize);
  // Only enable and function mask are writable in Message Control.
  set_cfg(cap_ + 2, 0xffff, 2);
  EXPECT_EQ(cfg(cap_ + 2, 2), 0xc002u);
  set_cfg(cap_ + 4, 0xffffffff, 4);
  EXPECT_EQ(cfg(cap_ + 4, 4), 1u);
  uint8_t b[4];
  t_->bar_read(regs::kMsixBar, 12, b);
  EXPECT_EQ(b[0], 1) << "vectors start masked";
}

TEST_F(PciMsixTest, HeaderMovesWithMsixEnable) {
  EXPECT_EQ(io(regs::kConfig, 4), 0x04030201u) << "MSI-X off: configuration at 20";
  EXPECT_EQ(io(regs::kQueueVector, 2), 0x0403u) << "no vector registers";
  enable();
  EXPECT_EQ(io(regs::kConfigMsix, 4), 0x04030201u) << "MSI-X on: configuration at 24";
  EXPECT_EQ(io(regs::kConfigVector, 2), regs::kNoVector);
  EXPECT_EQ(io(regs::kQueueVector, 2), regs::kNoVector);
  set_io(regs::kConfigVector, 2, 2);
  EXPECT_EQ(io(regs::kConfigVector, 2), 2u);
  set_io(regs::kQueueSelect, 1, 2);
  set_io(regs::kQueueVector, 3, 2);  // the table has 0..2
  EXPECT_EQ(io(regs::kQueueVector, 2), regs::kNoVector) << "refused: NO_VECTOR reads back";
  set_io(regs::kQueueVector, 1, 2);
  EXPECT_EQ(io(regs::kQueueVector, 2), 1u);
  set_io(regs::kQueueSelect, 0, 2);
  EXPECT_EQ(io(regs::kQueueVector, 2), regs::kNoVector) << "per queue";
  set_io(regs::kQueueSelect, 9, 2);
  set_io(regs::kQueueVector, 0, 2);  // no queue 9: ignored
  EXPECT_EQ(io(regs::kQueueVector, 2), regs::kNoVector);
  EXPECT_EQ(io(regs::kConfigVector, 4), 0u) << "wrong width";
  EXPECT_EQ(io(regs::kConfigVector + 1, 1), 0u);
  set_cfg(cap_ + 2, 0, 2);  // off again: the fields move back
  EXPECT_EQ(io(regs::kConfig, 4), 0x04030201u);
  set_io(regs::kStatus, 0, 1);  // reset forgets the assignments
  enable();
  EXPECT_EQ(io(regs::kConfigVector, 2), regs::kNoVector);
}

TEST_F(PciMsixTest, InterruptsGoToTheAssignedVectors) {
  enable();
  program(0, 0x40);
  program(1, 0x41);
  program(2, 0x42);
  set_io(regs::kConfigVector, 0, 2);
  set_io(regs::kQueueSelect, 0, 2);
  set_io(regs::kQueueVector, 1, 2);
  set_io(regs::kQueueSelect, 1, 2);
  set_io(regs::kQueueVector, 2, 2);
  t_->used_buffer(1);
  t_->used_buffer(0);
  t_->config_changed();
  EXPECT_EQ(sink_->signals, (std::vector<uint16_t>{2, 1, 0}));
  EXPECT_EQ(sink_->routes.size(), 3u);
  EXPECT_EQ(irq_->count.load(), 0) << "no INTx with MSI-X on";
  EXPECT_EQ(io(regs::kIsr, 1), 0u) << "the ISR is not used with MSI-X";
  EXPECT_EQ(cfg(pci::kStatus, 2) & pci::kStatusInterrupt, 0u);
  set_io(regs::kQueueSelect, 1, 2);
  set_io(regs::kQueueVector, regs::kNoVector, 2);
  t_->used_buffer(1);
  t_->used_buffer(7);  // no such queue
  EXPECT_EQ(sink_->signals.size(), 3u) << "NO_VECTOR: no interrupt";
}

TEST_F(PciMsixTest, MaskedVectorIsDeliveredOnUnmask) {
  enable();
  program(1, 0x41);
  table(16 + 12, 1);  // mask vector 1
  set_io(regs::kQueueVector, 1, 2);
  t_->used_buffer(0);
  EXPECT_TRUE(sink_->signals.empty());
  uint8_t pba[8] = {};
  t_->bar_read(regs::kMsixBar, regs::kMsixPbaOffset, pba);
  EXPECT_EQ(pba[0], 0b10);
  t_->bar_write(regs::kMsixBar, regs::kMsixPbaOffset, std::span<const uint8_t>(pba, 8));  // read-only
  table(16 + 12, 0);
  EXPECT_EQ(sink_->signals, (std::vector<uint16_t>{1}));
  t_->bar_read(regs::kMsixBar, regs::kMsixPbaOffset, pba);
  EXPECT_EQ(pba[0], 0);
  // Function mask through configuration space.
  set_cfg(cap_ + 2, pci::kMsixEnable | pci::kMsixFunctionMask, 2);
  t_->used_buffer(0);
  EXPECT_EQ(sink_->signals.size(), 1u);
  set_cfg(cap_ + 2, pci::kMsixEnable, 2);
  EXPECT_EQ(sink_->signals.size(), 2u);
}

TEST_F(PciMsixTest, IntxDisableAndInterruptStatus) {
  set_cfg(pci::kCommand, pci::kCommandIntxDisable, 2);
  t_->used_buffer(0);
  EXPECT_EQ(irq_->count.load(), 0) << "INTx Disable: the line stays low";
  EXPECT_NE(cfg(pci::kStatus, 2) & pci::kStatusInterrupt, 0u) << "Interrupt Status shows it anyway";
  EXPECT_EQ(cfg(pci::kCommand, 4) >> 16 & pci::kStatusInterrupt, pci::kStatusInterrupt) << "as a DWORD read";
  t_->reassert_if_pending();
  EXPECT_EQ(irq_->count.load(), 0);
  set_cfg(pci::kCommand, 0, 2);
  EXPECT_EQ(irq_->count.load(), 1) << "enabled again with an interrupt pending: raised";
  EXPECT_EQ(io(regs::kIsr, 1), kInterruptVring);
  EXPECT_EQ(cfg(pci::kStatus, 2) & pci::kStatusInterrupt, 0u) << "the ISR read cleared it";
  set_cfg(pci::kStatus, 0xffff, 2);  // read-only
  EXPECT_EQ(cfg(pci::kStatus, 2), pci::kStatusCapabilitiesList);
}

TEST_F(PciMsixTest, SnapshotCarriesVectorsAndTable) {
  enable();
  program(0, 0x40);
  program(2, 0x42);
  table(2 * 16 + 12, 1);
  set_io(regs::kConfigVector, 0, 2);
  set_io(regs::kQueueSelect, 1, 2);
  set_io(regs::kQueueVector, 2, 2);
  t_->used_buffer(1);  // pending on masked vector 2
  ASSERT_TRUE(t_->pause().has_value());
  snapshot::Encoder out;
  ASSERT_TRUE(t_->save_state(out).has_value());
  std::vector<uint8_t> config(t_->config().bytes().begin(), t_->config().bytes().end());

  auto sink2 = std::make_shared<RecordingSink>();
  auto t2 = PciLegacyTransport::create(*mem_, std::make_shared<TwoQueues>(), irq_, sink2);
  ASSERT_TRUE(t2.has_value());
  snapshot::Decoder in(out.data(), "transport");
  ASSERT_TRUE((*t2)->restore_state(in).has_value());
  ASSERT_TRUE(in.finish().has_value());
  ASSERT_TRUE((*t2)->config().restore(config).has_value());
  (*t2)->config_restored();  // what the PCI bus does after restoring configuration space
  (*t2)->resume();
  EXPECT_TRUE((*t2)->msix()->enabled());
  EXPECT_TRUE((*t2)->msix()->pending(2));
  uint8_t b[2];
  (*t2)->bar_read(0, regs::kConfigVector, b);
  EXPECT_EQ(b[0], 0);
  (*t2)->config_changed();
  EXPECT_EQ(sink2->signals, (std::vector<uint16_t>{0}));
  const uint8_t unmask[4] = {0, 0, 0, 0};
  (*t2)->bar_write(regs::kMsixBar, 2 * 16 + 12, unmask);
  EXPECT_EQ(sink2->signals, (std::vector<uint16_t>{0, 2})) << "the pending vector fires on unmask";
  EXPECT_EQ(sink2->routes.back().second, (pci::MsiMessage{0xfee00000, 0x42}));
  (*t2)->shutdown();

  // A transport without MSI-X refuses the record.
  auto plain = PciLegacyTransport::create(*mem_, std::make_shared<TwoQueues>(), irq_);
  ASSERT_TRUE(plain.has_value());
  snapshot::Decoder in2(out.data(), "transport");
  EXPECT_FALSE((*plain)->restore_state(in2).has_value());
  (*plain)->shutdown();
}

// BAR 0 of a transport as a bus device, for the driver library.
class Bar0 final : public BusDevice {
 public:
  explicit Bar0(PciLegacyTransport* t) : t_(t) {}
  void read(uint64_t offset, std::span<uint8_t> data) override { t_->bar_read(0, offset, data); }
  void write(uint64_t offset, std::span<const uint8_t> data) override { t_->bar_write(0, offset, data); }

 private:
  PciLegacyTransport* t_;
};

// A real device on its own thread: virtio-rng brought up by the driver library the way Linux's
// legacy driver does it (features, MSI-X on, vectors, queue, DRIVER_OK); its completion arrives
// on the queue's vector.
TEST_F(PciMsixTest, RngCompletionArrivesOnItsQueueVector) {
  t_->shutdown();
  auto sink = std::make_shared<RecordingSink>();
  auto t = PciLegacyTransport::create(*mem_, std::make_shared<Rng>(), irq_, sink);
  ASSERT_TRUE(t.has_value());
  t_ = *t;
  cap_ = t_->msix_capability();
  Bar0 bar(t_.get());
  driver::LegacyPci<driver::BusRegisters> pci(driver::BusRegisters{&bar});
  driver::Arena arena(driver::window_of(*mem_, GuestAddress(0x10000), 0x40000));
  auto features = driver::negotiate(pci, 0);
  ASSERT_TRUE(features.ok());
  enable();
  pci.set_msix(true);
  program(0, 0x30);
  program(1, 0x31);
  EXPECT_EQ(pci.set_config_vector(0), 0);
  auto queue = driver::setup_queue(pci, arena, 0, Rng::kQueueSize, driver::ring_options(features.value(), 0));
  ASSERT_TRUE(queue.ok());
  EXPECT_EQ(pci.set_queue_vector(0, 1), 1);
  ASSERT_EQ(driver::driver_ok(pci), driver::Error::none);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const driver::Completion c = complete_one_request(*queue, arena, deadline);
  EXPECT_EQ(c.token, 9u);
  while (sink->signals_now().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(sink->signals_now(), (std::vector<uint16_t>{1}));
  EXPECT_EQ(irq_->count.load(), 0);
  pci.reset();
}

}  // namespace
}  // namespace kiln::virtio
