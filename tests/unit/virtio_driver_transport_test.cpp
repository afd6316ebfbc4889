// The driver library's transports against small fakes: LegacyMmio's identification (Appendix X
// MagicValue / Version / DeviceID) and LegacyPci's register sequence (virtio 0.9.5, 2.2.2:
// 32 feature bits, fixed queue size, PFN, 16-bit notify, read-to-clear ISR, config at 20).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "drivers/virtio/device.h"
#include "drivers/virtio/mmio.h"
#include "drivers/virtio/pci.h"

namespace kiln::driver {
namespace {

struct Ram {
  static constexpr uint64_t kPhys = 0x100000;
  static constexpr uint64_t kSize = 128 * 1024;
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kSize + 4096);
  PhysWindow window() {
    // Host-align the window like the guest-physical side, so ring fields are naturally aligned.
    auto p = reinterpret_cast<uintptr_t>(bytes.data());
    return PhysWindow(kPhys, bytes.data() + ((4096 - p % 4096) % 4096), kSize);
  }
};

TEST(VirtioDriverMmio, IdentifyRejectsWhatIsNotLegacyVirtio) {
  std::vector<uint8_t> window(0x200);
  LegacyMmio<MemoryRegisters> t(MemoryRegisters{window.data()});
  MmioIdentity id;
  EXPECT_EQ(t.identify(id), Error::bad_magic);
  t.regs().write32(mmio::kMagicValue, mmio::kMagic);
  t.regs().write32(mmio::kVersion, 2);
  EXPECT_EQ(t.identify(id), Error::bad_version);
  t.regs().write32(mmio::kVersion, 1);
  EXPECT_EQ(t.identify(id), Error::no_device);
  t.regs().write32(mmio::kDeviceId, kDeviceBlock);
  t.regs().write32(mmio::kVendorId, 0x1234);
  EXPECT_EQ(t.identify(id), Error::none);
  EXPECT_EQ(id.device_id, kDeviceBlock);
  EXPECT_EQ(id.vendor_id, 0x1234u);
}

// A legacy virtio-PCI device with two queue slots (queue 0 of size 256, queue 1 absent).
struct FakePci {
  uint32_t host_features = bit(kFeatureEventIdx) | bit(blk::kFeatureFlush);
  uint32_t guest_features = 0;
  uint16_t select = 0;
  uint16_t sizes[2] = {256, 0};
  uint32_t pfn[2] = {0, 0};
  uint8_t status = 0;
  uint8_t isr = 0;
  std::vector<uint16_t> notified;
  uint8_t config[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<uint32_t> bad_accesses;  // offset of any access with the wrong width

  uint32_t read(uint32_t off, unsigned width) {
    switch (off) {
      case pci::kHostFeatures32: return expect(off, width, 4) ? host_features : 0;
      case pci::kQueueAddress32: return expect(off, width, 4) && select < 2 ? pfn[select] : 0;
      case pci::kQueueSize16: return expect(off, width, 2) && select < 2 ? sizes[select] : 0;
      case pci::kStatus8: return expect(off, width, 1) ? status : 0;
      case pci::kIsr8: {
        const uint8_t v = isr;
        isr = 0;  // 2.2.2: reading the ISR clears it
        return expect(off, width, 1) ? v : 0;
      }
      default: break;
    }
    if (off >= pci::kConfigNoMsix && off + width <= pci::kConfigNoMsix + sizeof(config)) {
      uint32_t v = 0;
      std::memcpy(&v, config + (off - pci::kConfigNoMsix), width);
      return v;
    }
    bad_accesses.push_back(off);
    return 0;
  }
  void write(uint32_t off, uint32_t v, unsigned width) {
    switch (off) {
      case pci::kGuestFeatures32: if (expect(off, width, 4)) guest_features = v; return;
      case pci::kQueueAddress32: if (expect(off, width, 4) && select < 2) pfn[select] = v; return;
      case pci::kQueueSelect16: if (expect(off, width, 2)) select = static_cast<uint16_t>(v); return;
      case pci::kQueueNotify16: if (expect(off, width, 2)) notified.push_back(static_cast<uint16_t>(v)); return;
      case pci::kStatus8: if (expect(off, width, 1)) status = static_cast<uint8_t>(v); return;
      default: bad_accesses.push_back(off);
    }
  }
  bool expect(uint32_t off, unsigned width, unsigned want) {
    if (width != want) bad_accesses.push_back(off);
    return width == want;
  }
};

struct FakePciRegisters {
  FakePci* d;
  [[nodiscard]] uint8_t read8(uint32_t o) const { return static_cast<uint8_t>(d->read(o, 1)); }
  [[nodiscard]] uint16_t read16(uint32_t o) const { return static_cast<uint16_t>(d->read(o, 2)); }
  [[nodiscard]] uint32_t read32(uint32_t o) const { return d->read(o, 4); }
  void write8(uint32_t o, uint8_t v) const { d->write(o, v, 1); }
  void write16(uint32_t o, uint16_t v) const { d->write(o, v, 2); }
  void write32(uint32_t o, uint32_t v) const { d->write(o, v, 4); }
};

TEST(VirtioDriverPci, BringUpUsesTheLegacyHeader) {
  FakePci dev;
  Ram ram;
  Arena arena(ram.window());
  LegacyPci<FakePciRegisters> t(FakePciRegisters{&dev});
  auto accepted = negotiate(t, bit(kFeatureEventIdx) | bit(kFeatureIndirectDesc));
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted.value(), bit(kFeatureEventIdx));
  EXPECT_EQ(dev.guest_features, bit(kFeatureEventIdx));
  EXPECT_EQ(dev.status, kStatusAcknowledge | kStatusDriver);

  EXPECT_EQ(t.setup_queue(arena, 0, 128, {}).error(), Error::queue_too_large);  // cannot shrink
  EXPECT_EQ(t.setup_queue(arena, 1, 256, {}).error(), Error::queue_unavailable);
  auto q = setup_queue(t, arena, 0, 256, ring_options(accepted.value(), 0));
  ASSERT_TRUE(q) << error_name(q.error());
  EXPECT_EQ(q->ring().size(), 256);
  EXPECT_EQ(uint64_t{dev.pfn[0]} << 12, q->ring().layout().desc);
  EXPECT_EQ(q->ring().layout().used % 4096, 0u);
  EXPECT_EQ(t.setup_queue(arena, 0, 256, {}).error(), Error::queue_in_use);
  ASSERT_EQ(driver_ok(t), Error::none);

  const Segment seg{Ram::kPhys, 8};
  ASSERT_TRUE(q->add(&seg, 1, 0, 0));
  EXPECT_TRUE(q->kick());  // avail_event 0 names the first entry
  EXPECT_EQ(dev.notified, std::vector<uint16_t>{0});

  dev.isr = kInterruptUsedRing;
  EXPECT_EQ(t.interrupt_status(), kInterruptUsedRing);
  EXPECT_EQ(t.interrupt_status(), 0u);
  EXPECT_EQ(t.config8(0), 1);
  EXPECT_EQ(t.config16(2), 0x0403);
  EXPECT_EQ(t.config64(0), 0x0807060504030201u);

  t.release_queue(0);
  EXPECT_EQ(dev.pfn[0], 0u);
  t.reset();
  EXPECT_EQ(dev.status, 0);
  EXPECT_TRUE(dev.bad_accesses.empty()) << "first bad access at offset " << dev.bad_accesses.front();
}

TEST(VirtioDriverPci, MissingRequiredFeatureFailsTheDevice) {
  FakePci dev;
  LegacyPci<FakePciRegisters> t(FakePciRegisters{&dev});
  auto accepted = negotiate(t, 0, bit(blk::kFeatureReadOnly));
  EXPECT_EQ(accepted.error(), Error::feature_missing);
  EXPECT_EQ(dev.status & kStatusFailed, kStatusFailed);
}

}  // namespace
}  // namespace kiln::driver
