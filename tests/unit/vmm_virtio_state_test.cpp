// The device sections of a VM snapshot (vmm/device_manager.h, vmm/virtio_state.h): a snapshot
// goes back only into a VM with the same devices in the same places, says clearly what differs
// otherwise (naming the device), and a failed restore leaves every device reset.
#include <gtest/gtest.h>

#include <algorithm>
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
  Devices& rng(std::string id = "") { return add(std::make_shared<virtio::Rng>(), std::move(id)); }
  Devices& add(std::shared_ptr<virtio::VirtioDevice> device, std::string id) {
    const size_t i = slots.size();
    auto t = virtio::MmioTransport::create(mem, device, std::make_shared<CountingTrigger>());
    EXPECT_TRUE(t.has_value());
    slots.push_back({std::string(device->name()), std::move(id), GuestAddress(0xd0000000 + 0x1000 * i),
                     static_cast<uint32_t>(5 + i), *t});
    buses.push_back(*t);
    EXPECT_TRUE(manager.add(managed_virtio_device(slots.back())));
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
    manager.pause_all();
    auto bytes = manager.save_all();
    EXPECT_TRUE(bytes) << (bytes ? "" : bytes.error().message);
    return bytes ? *bytes : std::vector<uint8_t>{};
  }
  Status restore(std::span<const uint8_t> bytes) { return manager.restore_all(bytes); }
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
  DeviceManager manager;
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
  b.manager.resume_all();
}

TEST(VmmVirtioState, RefusesAnotherDeviceSet) {
  Devices a;
  a.disk("root").disk("data").rng();
  const auto bytes = a.save();
  {
    Devices b;
    b.disk("root").rng();
    EXPECT_EQ(refusal(b, bytes), "the snapshot has device \"virtio-blk data\", which this VM does not have");
  }
  {
    Devices b;
    b.disk("root").disk("data");
    EXPECT_EQ(refusal(b, bytes), "the snapshot has device \"virtio-rng\", which this VM does not have");
  }
  {
    Devices b;
    b.disk("root").disk("data").disk("more").rng();
    EXPECT_EQ(refusal(b, bytes), "the snapshot has no device \"virtio-blk more\", which this VM has");
  }
  {
    Devices b;
    b.disk("root").rng().disk("data");
    EXPECT_EQ(refusal(b, bytes), "virtio-rng: the snapshot has it at 0xd0002000 (GSI 7), this VM at 0xd0001000 (GSI 6)");
  }
}

TEST(VmmVirtioState, MalformedSectionsLeaveEveryDeviceReset) {
  Devices a;
  a.rng("a").rng("b");
  a.start_rngs();
  const auto bytes = a.save();
  Devices b;
  b.rng("a").rng("b");
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
  // The version after the second device's name.
  auto other_version = bytes;
  const std::string name = "virtio-rng b";
  const auto at = std::search(other_version.begin(), other_version.end(), name.begin(), name.end());
  ASSERT_NE(at, other_version.end());
  *(at + static_cast<long>(name.size())) = 7;
  EXPECT_EQ(refusal(b, other_version),
            "device \"virtio-rng b\": the snapshot's state has version 7, this kiln reads version 2");
  // The second device's record ends with its transport's (empty) rng record length: a larger
  // length is a truncation inside that device, reported with its name.
  auto bad = bytes;
  bad[bad.size() - 4] = 1;
  const std::string message = refusal(b, bad);
  EXPECT_NE(message.find("virtio-rng b"), std::string::npos) << message;
  EXPECT_EQ(b.status(0), 0);
  ASSERT_TRUE(b.restore(bytes));
  EXPECT_EQ(b.status(0), drv::kStatusAcknowledge | drv::kStatusDriver | drv::kStatusDriverOk);
  EXPECT_EQ(b.status(1), drv::kStatusAcknowledge | drv::kStatusDriver | drv::kStatusDriverOk);
}

TEST(VmmDeviceManager, RefusesRepeatedNames) {
  DeviceManager m;
  ASSERT_TRUE(m.add({"serial", 1, nullptr, nullptr, nullptr, nullptr, nullptr}));
  auto again = m.add({"serial", 1, nullptr, nullptr, nullptr, nullptr, nullptr});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, "two devices named \"serial\"");
}

TEST(VmmDeviceManager, PausesInOrderAndResumesInReverse) {
  DeviceManager m;
  std::string trace;
  for (const char* n : {"a", "b", "c"}) {
    ASSERT_TRUE(m.add({n, 1,
                       [&trace, n] {
                         trace += fmt::format("p{} ", n);
                         return Status{};
                       },
                       [&trace, n] { trace += fmt::format("r{} ", n); }, nullptr, nullptr, nullptr}));
  }
  m.pause_all();
  m.resume_all();
  EXPECT_EQ(trace, "pa pb pc rc rb ra ");
}

}  // namespace
}  // namespace kiln
