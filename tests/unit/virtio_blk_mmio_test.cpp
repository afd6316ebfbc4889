// virtio-blk behind the virtio-mmio transport, driven by kiln's own driver library
// (drivers/virtio), an independent reading of the spec: bring-up, configuration space, and the
// requests a guest driver makes, register access by register access.
#include <gtest/gtest.h>

#include <cstring>

#include "devices/irq.h"
#include "drivers/virtio/blk.h"
#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/mmio.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "virtio_blk_test_util.h"

namespace kiln::virtio::blk::test {
namespace {

namespace drv = kiln::driver;

class CountingTrigger final : public IrqTrigger {
 public:
  void trigger() override { ++count; }
  std::atomic<int> count{0};
};

// Polls the queue until the device answers (the device works on its own thread).
struct PollingWait {
  template <class QueueT>
  drv::Poll operator()(QueueT& q, drv::Completion& c) const {
    drv::Poll p = drv::Poll::empty;
    (void)eventually([&] {
      p = q.poll(c);
      return p != drv::Poll::empty;
    });
    return p;
  }
};

struct MmioSession {
  explicit MmioSession(const BlockOptions& options)
      : device(*BlockDevice::create(options)), transport(*MmioTransport::create(mem, device, irq)) {}
  ~MmioSession() { transport->shutdown(); }

  // Identify, negotiate, one queue of 128 entries, DRIVER_OK; returns the accepted features.
  uint64_t bring_up(uint64_t wanted) {
    drv::MmioIdentity id;
    EXPECT_EQ(t.identify(id), drv::Error::none);
    EXPECT_EQ(id.device_id, drv::kDeviceBlock);
    auto accepted = drv::negotiate(t, wanted);
    EXPECT_TRUE(accepted.ok());
    auto q = drv::setup_queue(t, arena, 0, 128, drv::ring_options(*accepted, 16));
    EXPECT_TRUE(q.ok());
    queue = *q;
    EXPECT_EQ(drv::driver_ok(t), drv::Error::none);
    auto r = drv::BlkRequest::allocate(arena);
    EXPECT_TRUE(r.ok());
    req = *r;
    return *accepted;
  }
  uint8_t transfer(uint32_t type, uint64_t sector, std::initializer_list<drv::Segment> data, drv::Completion* c = nullptr) {
    const std::vector<drv::Segment> segs(data);
    auto status = drv::blk_transfer(queue, req, type, sector, segs.data(), static_cast<uint16_t>(segs.size()),
                                    PollingWait{}, c);
    EXPECT_TRUE(status.ok());
    return status.ok() ? *status : 0xff;
  }

  GuestMemory mem = make_ram();
  std::shared_ptr<BlockDevice> device;
  std::shared_ptr<CountingTrigger> irq = std::make_shared<CountingTrigger>();
  std::shared_ptr<MmioTransport> transport;
  drv::Arena arena{drv::window_of(mem, GuestAddress(2 * MiB), 2 * MiB)};
  drv::LegacyMmio<drv::BusRegisters> t{drv::BusRegisters{transport.get()}};
  drv::Queue<drv::LegacyMmio<drv::BusRegisters>> queue;
  drv::BlkRequest req;
};

constexpr uint64_t kWanted = drv::bit(drv::blk::kFeatureFlush) | drv::bit(drv::blk::kFeatureBlkSize) |
                             drv::bit(drv::blk::kFeatureSegMax) | drv::bit(drv::kFeatureEventIdx) |
                             drv::bit(drv::kFeatureIndirectDesc);

TEST(VirtioBlkMmio, DriverLibrarySession) {
  TempImage image(1 * MiB);
  MmioSession s(image.options(false, "mmio-serial"));
  const uint64_t accepted = s.bring_up(kWanted);
  EXPECT_EQ(accepted, kWanted);  // everything asked for is offered
  EXPECT_EQ(s.t.config64(drv::blk::kConfigCapacity), 2048u);
  EXPECT_EQ(s.t.config32(drv::blk::kConfigSegMax), BlockDevice::kSegMax);
  EXPECT_EQ(s.t.config32(drv::blk::kConfigBlkSize), 512u);

  auto out = s.arena.allocate(8192, 4096);
  auto in = s.arena.allocate(8192, 4096);
  ASSERT_TRUE(out.ok() && in.ok());
  for (uint32_t i = 0; i < 4096; ++i) out->host[i] = static_cast<uint8_t>(i * 3 + 1);
  EXPECT_EQ(s.transfer(drv::blk::kTypeOut, 8, {{out->phys, 1024}, {out->phys + 1024, 3072}}), kStatusOk);
  drv::Completion c;
  EXPECT_EQ(s.transfer(drv::blk::kTypeIn, 8, {{in->phys, 512}, {in->phys + 512, 512}, {in->phys + 1024, 3072}}, &c),
            kStatusOk);
  EXPECT_EQ(c.len, 4097u);
  EXPECT_EQ(std::memcmp(in->host, out->host, 4096), 0);
  EXPECT_EQ(image.read(8 * 512, 4096), std::vector<uint8_t>(out->host, out->host + 4096));

  EXPECT_EQ(s.transfer(drv::blk::kTypeFlush, 0, {}), kStatusOk);
  std::memset(in->host, 0, 32);
  EXPECT_EQ(s.transfer(drv::blk::kTypeGetId, 0, {{in->phys, drv::blk::kIdBytes}}), kStatusOk);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(in->host)), "mmio-serial");
  EXPECT_EQ(s.transfer(0x40, 0, {{in->phys, 512}}), drv::blk::kStatusUnsupported);
  EXPECT_EQ(s.transfer(drv::blk::kTypeIn, 2048, {{in->phys, 512}}), drv::blk::kStatusIoErr);
  EXPECT_EQ(s.transfer(drv::blk::kTypeIn, 2047, {{in->phys, 1024}}), drv::blk::kStatusIoErr);
  EXPECT_GT(s.irq->count.load(), 0);

  s.t.reset();  // Status 0: the device stops (and waits for its I/O)
  EXPECT_EQ(s.device->engine_name(), "inactive");
}

TEST(VirtioBlkMmio, ReadonlyDiskOffersRoAndRefusesWrites) {
  TempImage image(64 * KiB);
  MmioSession s(image.options(true));
  const uint64_t accepted = s.bring_up(kWanted | drv::bit(drv::blk::kFeatureReadOnly));
  EXPECT_NE(accepted & drv::bit(drv::blk::kFeatureReadOnly), 0u);
  auto buf = s.arena.allocate(512, 4096);
  ASSERT_TRUE(buf.ok());
  EXPECT_EQ(s.transfer(drv::blk::kTypeOut, 0, {{buf->phys, 512}}), drv::blk::kStatusIoErr);
  EXPECT_EQ(s.transfer(drv::blk::kTypeIn, 0, {{buf->phys, 512}}), kStatusOk);
  EXPECT_EQ(std::vector<uint8_t>(buf->host, buf->host + 512), image.read(0, 512));
}

TEST(VirtioBlkMmio, LegacyDriverWithoutFlushOrRingFeatures) {
  // An old driver: no FLUSH (so kiln writes through), no EVENT_IDX, no indirect descriptors.
  TempImage image(64 * KiB);
  MmioSession s(image.options());
  EXPECT_EQ(s.bring_up(0), 0u);
  auto buf = s.arena.allocate(1024, 4096);
  ASSERT_TRUE(buf.ok());
  std::memset(buf->host, 0x6d, 1024);
  EXPECT_EQ(s.transfer(drv::blk::kTypeOut, 4, {{buf->phys, 1024}}), kStatusOk);
  EXPECT_EQ(image.read(4 * 512, 1024), std::vector<uint8_t>(1024, 0x6d));
}

// PATCH /drives: a running disk gets a new backing file through its transport (device paused,
// register lock held); the driver is told through a configuration change and then reads the new
// file, on the same queue.
TEST(VirtioBlkMmio, ReplacingTheImageChangesCapacityAndData) {
  TempImage first(1 * MiB);
  TempImage second(3 * MiB);
  {
    // Give the second image other bytes than the first at sector 4.
    const std::vector<uint8_t> marker(512, 0xa5);
    const int fd = ::open(second.path().c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, marker.data(), marker.size(), 4 * 512), 512);
    ::close(fd);
  }
  MmioSession s(first.options(false, "swap"));
  s.bring_up(kWanted);
  EXPECT_EQ(s.t.config64(drv::blk::kConfigCapacity), 2048u);
  auto in = s.arena.allocate(512, 512);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(s.transfer(drv::blk::kTypeIn, 4, {{in->phys, 512}}), kStatusOk);
  EXPECT_EQ(std::vector<uint8_t>(in->host, in->host + 512), first.read(4 * 512, 512));
  s.t.ack_interrupt(s.t.interrupt_status());

  // Not behind the transport's back while the device runs.
  EXPECT_FALSE(s.device->replace_image(second.path()));
  const auto swap = [&](const std::string& path) {
    return s.transport->change_device([&]() -> Result<bool> {
      KILN_TRY(s.device->replace_image(path));
      return true;
    });
  };
  ASSERT_TRUE(swap(second.path()));
  EXPECT_EQ(s.t.interrupt_status() & drv::kInterruptConfig, drv::kInterruptConfig);
  EXPECT_EQ(s.t.config64(drv::blk::kConfigCapacity), 6144u);
  EXPECT_EQ(s.transfer(drv::blk::kTypeIn, 4, {{in->phys, 512}}), kStatusOk);
  EXPECT_EQ(std::vector<uint8_t>(in->host, in->host + 512), std::vector<uint8_t>(512, 0xa5));

  // A path that cannot be opened leaves the current file serving.
  s.t.ack_interrupt(s.t.interrupt_status());
  const auto bad = swap(second.path() + ".missing");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(".missing"), std::string::npos) << bad.error().message;
  EXPECT_EQ(s.t.interrupt_status() & drv::kInterruptConfig, 0u);  // nothing changed
  EXPECT_EQ(s.t.config64(drv::blk::kConfigCapacity), 6144u);
  EXPECT_EQ(s.transfer(drv::blk::kTypeIn, 4, {{in->phys, 512}}), kStatusOk);
  EXPECT_EQ(in->host[0], 0xa5);
}

}  // namespace
}  // namespace kiln::virtio::blk::test
