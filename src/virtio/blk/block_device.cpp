#include "virtio/blk/block_device.h"

#include <unistd.h>

#include <atomic>

#include "common/log.h"

namespace kiln::virtio::blk {

Result<std::shared_ptr<BlockDevice>> BlockDevice::create(const BlockOptions& options, IoMode mode) {
  auto image = DiskImage::open(options);
  if (!image) return tl::unexpected(image.error());
  std::shared_ptr<BlockDevice> device(new BlockDevice(std::move(*image), mode));
  // Appendix D configuration layout; constant for the device's life.
  device->config_.capacity = device->image_.capacity_sectors();
  device->config_.seg_max = kSegMax;
  device->config_.blk_size = static_cast<uint32_t>(kSectorSize);
  return device;
}

uint64_t BlockDevice::features() const {
  uint64_t f = feature(kFSegMax) | feature(kFBlkSize) | feature(kFFlush) | feature(kFRingIndirectDesc) |
               feature(kFRingEventIdx);
  if (image_.readonly()) f |= feature(kFRo);
  return f;
}

void BlockDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  read_config_bytes(std::span(reinterpret_cast<const uint8_t*>(&config_), sizeof(config_)), offset, data);
}

std::unique_ptr<IoEngine> BlockDevice::make_engine() const {
  if (mode_ == IoMode::kAuto) {
    auto uring = make_uring_engine(image_.fd(), kQueueSize);
    if (uring) return std::move(*uring);
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) {
      log("virtio-blk: io_uring unavailable ({}); disks use synchronous I/O on their device threads",
          uring.error().message);
    }
  }
  return make_sync_engine(image_.fd());
}

Status BlockDevice::activate(Activation activation) {
  if (activation.queues.empty() || !activation.queues[0].queue) return fail("the request queue was not set up");
  if (activation.mem == nullptr || activation.interrupt == nullptr) return fail("activation without memory or interrupt");
  reset();
  active_ = std::move(activation);
  ProcessorOptions options;
  options.label = image_.path();
  options.disk = DiskInfo{image_.capacity_sectors(), image_.readonly()};
  options.serial = image_.serial();
  // Without VIRTIO_BLK_F_FLUSH the driver never flushes: the cache must be write-through.
  options.write_through = (active_.features & feature(kFFlush)) == 0;
  options.max_in_flight = kQueueSize;
  processor_ = std::make_unique<RequestProcessor>(*active_.mem, *active_.queues[0].queue, *active_.interrupt,
                                                  make_engine(), std::move(options));
  const int notify = active_.queues[0].notify_fd;
  std::vector<EventLoop::Source> sources;
  sources.push_back({notify, [this, notify] {
                       uint64_t count = 0;
                       [[maybe_unused]] auto n = ::read(notify, &count, sizeof(count));
                       processor_->service();
                     }});
  if (const int done = processor_->completion_fd(); done >= 0) {
    sources.push_back({done, [this] { processor_->service(); }});
  }
  auto loop = EventLoop::start("kiln-blk", std::move(sources));
  if (!loop) {
    reset();
    return tl::unexpected(loop.error());
  }
  loop_ = std::move(*loop);
  // Requests made available before DRIVER_OK (or notifies that raced the loop's start) are seen.
  if (notify >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(notify, &one, sizeof(one));
  }
  return {};
}

void BlockDevice::reset() {
  loop_.reset();  // joins the thread: no more service() calls
  // Waits for the kernel to finish with guest memory; nothing is pushed to the rings.
  if (processor_) processor_->quiesce();
  processor_.reset();
  active_ = Activation{};
}

std::string_view BlockDevice::engine_name() const { return processor_ ? processor_->engine_name() : "inactive"; }

}  // namespace kiln::virtio::blk
