#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "memory/guest_memory.h"
#include "targets.h"
#include "virtio/blk/request_processor.h"
#include "virtio/queue/split_queue.h"
#include "virtio/spec.h"

namespace kiln::fuzz {
namespace {

constexpr uint64_t kRegion = 64 * 1024;
constexpr uint64_t kSecond = 128 * 1024;
constexpr uint64_t kImageBytes = 64 * 1024;

class CountingInterrupt final : public virtio::Interrupt {
 public:
  void used_buffer(uint16_t) override { ++used; }
  void config_changed() override {}
  int used = 0;
};

// The image: a memfd, emptied before every input so runs do not depend on each other.
int image_fd() {
  static const int fd = [] {
    const int f = ::memfd_create("kiln-fuzz-blk", MFD_CLOEXEC);
    check(f >= 0, "memfd_create");
    return f;
  }();
  check(::ftruncate(fd, 0) == 0 && ::ftruncate(fd, kImageBytes) == 0, "reset the image");
  return fd;
}

}  // namespace

int blk_request(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::array ranges{MemoryRange{GuestAddress(0), kRegion}, MemoryRange{GuestAddress(kSecond), kRegion}};
  auto mem = GuestMemory::create(ranges);
  check(mem.has_value(), "guest memory");
  const size_t ram_bytes = std::min<size_t>(size - 2, kRegion);
  if (ram_bytes > 0) check(mem->write(GuestAddress(0), std::span(data + 2, ram_bytes)).has_value(), "fill RAM");

  const uint8_t flags = data[0];
  const auto queue_size = static_cast<uint16_t>(1u << (data[1] % 9));
  uint64_t features = 0;
  if ((flags & 2) != 0) features |= virtio::feature(virtio::kFRingEventIdx);
  if ((flags & 4) != 0) features |= virtio::feature(virtio::kFRingIndirectDesc);
  auto layout = virtio::legacy_layout(queue_size, 0, 4096, 4096);
  check(layout.has_value(), "layout");
  auto queue = virtio::SplitQueue::create(*mem, *layout, features);
  check(queue.has_value(), "queue inside RAM");

  virtio::blk::ProcessorOptions options;
  options.label = "fuzz";
  options.disk = virtio::blk::DiskInfo{kImageBytes / 512, (flags & 1) != 0};
  options.serial = "fuzz-serial";
  options.write_through = (flags & 8) == 0;
  options.max_in_flight = static_cast<uint16_t>(((flags >> 4) & 7) + 1);
  CountingInterrupt interrupt;
  {
    virtio::blk::RequestProcessor processor(*mem, *queue, interrupt, virtio::blk::make_sync_engine(image_fd()), options);
    // Synchronous I/O: everything started has finished after each pass. (A second pass may find
    // new chains: reads into guest RAM can rewrite the rings themselves.)
    for (int pass = 0; pass < 2; ++pass) {
      processor.service();
      check(processor.in_flight() == 0, "nothing left in flight");
    }
    check(processor.peak_in_flight() <= options.max_in_flight, "slot limit");
  }
  // Every answer is for a chain taken (heads outside the queue cannot be answered at all).
  check(static_cast<uint16_t>(queue->next_avail() - queue->next_used()) < 0x8000, "no more answers than chains");
  return 0;
}

}  // namespace kiln::fuzz
