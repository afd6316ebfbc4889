// The virtio section of a VM snapshot (vmm/virtio_state.h): a snapshot goes back only into a VM
// with the same devices in the same places, says clearly what differs otherwise, and a failed
// restore leaves every device reset.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "virtio/rng/rng.h"
#include "virtio_blk_test_util.h"
#include "virtio_state_test_util.h"
#include "vmm/virtio_state.h"

namespace kiln {
namespace {

using virtio::test::CountingTrigger;
using virtio::test::Mmio;
namespace drv = kiln::driver;

constexpr uint64_t kRam = 8 * MiB;

// A VM's virtio devices over its own guest RAM, placed the way VirtioDevices does.
struct Devices {
  Devices() = default;
  Devices(const Devices&) = delete;
  Devices& operator=(const Devices&) = delete;
  ~Devices() {
    for (auto& s : slots) s.transport->shutdown();
  }
  Devices& disk(std::string id) {
    images.push_back(std::make_unique<virtio::blk::test::TempImage>(64 * KiB));
    auto d = virtio::blk::BlockDevice::create(images.back()->options());
    EXPECT_TRUE(d.has_value());
    return add(*d, std::move(id));
  }
  Devices& rng() { return add(std::make_shared<virtio::Rng>(), ""); }
  Devices& add(std::shared_ptr<virtio::VirtioDevice> device, std::string id) {
    const size_t i = slots.size();
    auto t = virtio::MmioTransport::create(mem, device, std::make_shared<CountingTrigger>());
    EXPECT_TRUE(t.has_value());
    slots.push_back({std::string(device->name()), std::move(id), GuestAddress(0xd0000000 + 0x1000 * i),
                     static_cast<uint32_t>(5 + i), *t});
    buses.push_back(*t);
    return *this;
  }
  // The driver brings up every rng with one queue of 16 entries.
  void start_rngs() {
    for (size_t i = 0; i < slots.size(); ++i) {
      if (slots[i].kind != "rng") continue;
      Mmio t(drv::BusRegisters{buses[i].get()});
      auto accepted = drv::negotiate(t, drv::bit(drv::kFeatureEventIdx));
      ASSERT_TRUE(accepted.ok());
      ASSERT_TRUE(t.setup_queue(arena, 0, 16, drv::ring_options(*accepted, 0)).ok());
      ASSERT_EQ(drv::driver_ok(t), drv::Error::none);
    }
  }
  std::vector<uint8_t> save() {
    pause_virtio_slots(slots);
    snapshot::Encoder e;
    auto ok = save_virtio_slots(slots, e);
    EXPECT_TRUE(ok) << (ok ? "" : ok.error().message);
    return e.take();
  }
  Status restore(std::span<const uint8_t> bytes) {
    snapshot::Decoder d(bytes, "snapshot");
    KILN_TRY(restore_virtio_slots(slots, d));
    return d.finish();
  }
  void copy_ram_from(const Devices& other) {
    std::vector<uint8_t> bytes(kRam);
    ASSERT_TRUE(other.mem.read(GuestAddress(0), bytes));
    ASSERT_TRUE(mem.write(GuestAddress(0), bytes));
  }
  uint8_t status(size_t i) { return Mmio(drv::BusRegisters{buses[i].get()}).status(); }

  GuestMemory mem = virtio::test::make_guest_ram(kRam);
  drv::Arena arena{drv::window_of(mem, GuestAddress(1 * MiB), 4 * MiB)};
  std::vector<std::unique_ptr<virtio::blk::test::TempImage>> images;
  std::vector<VirtioSlot> slots;
  std::vector<std::shared_ptr<virtio::MmioTransport>> buses;  // the slots' register windows
};

std::string refusal(Devices& vm, std::span<const uint8_t> bytes) {
  auto ok = vm.restore(bytes);
  EXPECT_FALSE(ok);
  return ok ? "" : ok.error().message;
}

TEST(VmmVirtioState, RestoresIntoTheSameDeviceSet) {
  Devices a;
  a.disk("root").disk("data").rng();
  a.start_rngs();
  const auto bytes = a.save();
  Devices b;
  b.disk("root").disk("data").rng();
  b.copy_ram_from(a);
  ASSERT_TRUE(b.restore(bytes));
  EXPECT_EQ(b.status(2), drv::kStatusAcknowledge | drv::kStatusDriver | drv::kStatusDriverOk);
  EXPECT_EQ(b.status(0), 0);
  resume_virtio_slots(b.slots);
}

TEST(VmmVirtioState, RefusesAnotherDeviceSet) {
  Devices a;
  a.disk("root").disk("data").rng();
  const auto bytes = a.save();
  {
    Devices b;
    b.disk("root").rng();
    EXPECT_EQ(refusal(b, bytes), "snapshot has 2 disks, this VM has 1");
  }
  {
    Devices b;
    b.disk("root").disk("data");
    EXPECT_EQ(refusal(b, bytes), "snapshot has 1 virtio-rng device, this VM has 0");
  }
  {
    Devices b;
    b.disk("root").disk("other").rng();
    EXPECT_EQ(refusal(b, bytes),
              "virtio device 1: snapshot has disk \"data\" at 0xd0001000 (GSI 6), this VM has disk \"other\" at "
              "0xd0001000 (GSI 6)");
  }
  {
    Devices b;
    b.disk("root").rng().disk("data");
    EXPECT_EQ(refusal(b, bytes),
              "virtio device 1: snapshot has disk \"data\" at 0xd0001000 (GSI 6), this VM has virtio-rng at "
              "0xd0001000 (GSI 6)");
  }
}

TEST(VmmVirtioState, MalformedSectionsLeaveEveryDeviceReset) {
  Devices a;
  a.rng().rng();
  a.start_rngs();
  const auto bytes = a.save();
  Devices b;
  b.rng().rng();
  b.copy_ram_from(a);
  for (size_t len = 0; len < bytes.size(); ++len) {
    SCOPED_TRACE(len);
    EXPECT_NE(refusal(b, std::span(bytes.data(), len)).find("truncated"), std::string::npos);
    EXPECT_EQ(b.status(0), 0);  // also when the first device was restored before the second failed
    EXPECT_EQ(b.status(1), 0);
  }
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_NE(refusal(b, longer).find("trailing"), std::string::npos);
  auto other_format = bytes;
  other_format[0] = 2;
  EXPECT_NE(refusal(b, other_format).find("virtio state format 2"), std::string::npos);
  // The second device's record is its transport's: its last byte is inside the (empty) rng record
  // length, so a larger length is a truncation inside that device, reported with its name.
  auto bad = bytes;
  bad[bad.size() - 4] = 1;
  const std::string message = refusal(b, bad);
  EXPECT_NE(message.find("virtio device 1 (virtio-rng at 0xd0001000 (GSI 6)) state"), std::string::npos) << message;
  EXPECT_EQ(b.status(0), 0);
  ASSERT_TRUE(b.restore(bytes));
  EXPECT_EQ(b.status(0), drv::kStatusAcknowledge | drv::kStatusDriver | drv::kStatusDriverOk);
  EXPECT_EQ(b.status(1), drv::kStatusAcknowledge | drv::kStatusDriver | drv::kStatusDriverOk);
}

}  // namespace
}  // namespace kiln
