// PATCH /drives' disk swap racing a driver that resets and re-activates the disk (issue 12), with
// no KVM: one thread plays the guest through kiln's own driver library on an MmioTransport
// (Status 0, negotiate, queue, DRIVER_OK, the capacity from the configuration space, a read of
// sector 0), another swaps the backing file the way VirtioDevices::replace_disk does
// (LegacyTransport::change_device + BlockDevice::replace_image) between two images of different
// sizes and contents. Every guest iteration must see one whole image; afterwards the disk serves
// the last one. Meant for the ASan tree and a ThreadSanitizer build (README: tests).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

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
using Transport = drv::LegacyMmio<drv::BusRegisters>;

constexpr uint64_t kSectorsA = 2048;  // 1 MiB of 0xa1
constexpr uint64_t kSectorsB = 3072;  // 1.5 MiB of 0xb2
constexpr int kIterations = 1500;

class NullTrigger final : public IrqTrigger {
 public:
  void trigger() override { count.fetch_add(1, std::memory_order_relaxed); }
  std::atomic<uint64_t> count{0};
};

// An image of `sectors` sectors of `byte`, removed at the end of the test.
class FilledImage {
 public:
  FilledImage(uint64_t sectors, uint8_t byte) {
    std::vector<uint8_t> bytes(sectors * 512, byte);
    std::FILE* f = std::fopen(image_.path().c_str(), "wb");
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    EXPECT_EQ(std::fclose(f), 0);
  }
  [[nodiscard]] const std::string& path() const { return image_.path(); }
  [[nodiscard]] BlockOptions options() const { return image_.options(); }

 private:
  TempImage image_{0};
};

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

struct Sample {
  bool ok = false;
  uint64_t sectors = 0;
  int byte = -1;  // the byte all 512 hold, -1 if they differ
};

// One guest iteration on a copy of `arena` (the same memory every time).
Sample reset_and_read(Transport& t, drv::Arena arena) {
  Sample s;
  t.reset();
  auto f = drv::negotiate(t, drv::bit(drv::kFeatureEventIdx) | drv::bit(drv::kFeatureIndirectDesc));
  if (!f) return s;
  auto q = drv::setup_queue(t, arena, 0, 64, drv::ring_options(*f, 4));
  if (!q || drv::driver_ok(t) != drv::Error::none) return s;
  s.sectors = t.config64(drv::blk::kConfigCapacity);
  auto data = arena.allocate(512, 512);
  auto req = drv::BlkRequest::allocate(arena);
  if (!data || !req) return s;
  const drv::Segment seg{data->phys, 512};
  drv::Completion c;
  auto status = drv::blk_transfer(*q, *req, drv::blk::kTypeIn, 0, &seg, 1, PollingWait{}, &c);
  if (!status || *status != drv::blk::kStatusOk || c.len != 513) return s;
  s.ok = true;
  s.byte = data->host[0];
  for (int i = 1; i < 512; ++i) {
    if (data->host[i] != data->host[0]) s.byte = -1;
  }
  return s;
}

void race(IoMode mode) {
  const FilledImage a(kSectorsA, 0xa1);
  const FilledImage b(kSectorsB, 0xb2);
  GuestMemory mem = make_ram();
  auto device = BlockDevice::create(a.options(), mode);
  ASSERT_TRUE(device) << device.error().message;
  auto irq = std::make_shared<NullTrigger>();
  auto transport = MmioTransport::create(mem, *device, irq);
  ASSERT_TRUE(transport) << transport.error().message;
  Transport t{drv::BusRegisters{transport->get()}};
  const drv::Arena arena{drv::window_of(mem, GuestAddress(2 * MiB), 2 * MiB)};

  // What VirtioDevices::replace_disk does for PATCH /drives.
  auto swap_to = [&](const std::string& path) {
    return (*transport)->change_device([&]() -> Result<bool> {
      KILN_TRY((*device)->replace_image(path));
      return true;
    });
  };
  std::atomic<bool> done{false};
  std::atomic<uint64_t> swaps{0};
  std::string swap_error;
  std::thread swapper([&] {
    for (uint64_t i = 0; !done.load(std::memory_order_acquire); ++i) {
      if (auto ok = swap_to(i % 2 == 0 ? b.path() : a.path()); !ok) {
        swap_error = ok.error().message;
        return;
      }
      swaps.fetch_add(1, std::memory_order_relaxed);
      // A breath between swaps, so the guest's register accesses get the transport's lock too
      // (an API client cannot swap much faster than this either).
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  uint64_t seen_a = 0;
  uint64_t seen_b = 0;
  uint64_t bad = 0;
  for (int i = 0; i < kIterations; ++i) {
    const Sample s = reset_and_read(t, arena);
    const bool whole_a = s.ok && s.byte == 0xa1 && (s.sectors == kSectorsA || s.sectors == kSectorsB);
    const bool whole_b = s.ok && s.byte == 0xb2 && (s.sectors == kSectorsA || s.sectors == kSectorsB);
    seen_a += whole_a ? 1 : 0;
    seen_b += whole_b ? 1 : 0;
    if (!whole_a && !whole_b && bad++ < 5) {
      ADD_FAILURE() << "iteration " << i << ": ok=" << s.ok << " sectors=" << s.sectors << " byte=" << s.byte;
    }
  }
  done.store(true, std::memory_order_release);
  swapper.join();
  EXPECT_TRUE(swap_error.empty()) << swap_error;
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(seen_a, 0u);
  EXPECT_GT(seen_b, 0u);
  EXPECT_GT(swaps.load(), 10u);

  // The last swap, then a fresh bring-up: the new image, by size and content.
  ASSERT_TRUE(swap_to(b.path()));
  // The driver was running the device: the new capacity is announced (config change, Appendix X).
  EXPECT_NE(t.interrupt_status() & 2u, 0u);
  const Sample last = reset_and_read(t, arena);
  EXPECT_TRUE(last.ok);
  EXPECT_EQ(last.sectors, kSectorsB);
  EXPECT_EQ(last.byte, 0xb2);
  t.reset();
  (*transport)->shutdown();
  std::printf("drive swap race: %d guest iterations (image a %llu, b %llu), %llu swaps, engine %s\n", kIterations,
              static_cast<unsigned long long>(seen_a), static_cast<unsigned long long>(seen_b),
              static_cast<unsigned long long>(swaps.load()), mode == IoMode::kSync ? "sync" : "auto");
}

TEST(VirtioDriveSwapRace, ResetReactivateAndReadWhileSwappingIoUring) { race(IoMode::kAuto); }
TEST(VirtioDriveSwapRace, ResetReactivateAndReadWhileSwappingSync) { race(IoMode::kSync); }

}  // namespace
}  // namespace kiln::virtio::blk::test
