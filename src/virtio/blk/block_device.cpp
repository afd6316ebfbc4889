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
  auto loop = EventLoop::start("kiln-blk", std::move(sources), active_.start_paused);
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

Status BlockDevice::pause() {
  paused_ = true;
  if (!loop_) return {};
  loop_->pause();  // no service() runs now: the processor is ours until resume()
  return processor_->complete_in_flight();
}

void BlockDevice::resume() {
  paused_ = false;
  if (!loop_) return;
  loop_->resume();
  // Requests made available while paused, or before the snapshot this device was restored from.
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(active_.queues[0].notify_fd, &one, sizeof(one));
}

Status BlockDevice::replace_image(const std::string& path) {
  const BlockOptions old{image_.path(), image_.readonly(), image_.serial(), image_.direct()};
  BlockOptions next = old;
  next.path = path;
  const bool was_paused = paused_;
  Activation kept;
  if (loop_) {
    KILN_TRY(pause());  // requests in flight complete on the old file
    kept = std::move(active_);
    loop_.reset();
    processor_.reset();
    active_ = Activation{};
  }
  // The old file is closed (and unlocked) first: the new path may be the same file, resized.
  image_ = DiskImage{};
  auto image = DiskImage::open(next);
  Status result;
  if (image) {
    image_ = std::move(*image);
  } else {
    result = tl::unexpected(image.error());
    auto back = DiskImage::open(old);
    if (!back) {
      log("virtio-blk: {} cannot be reopened after a failed replacement: {}", old.path, back.error().message);
      return result;  // the device stays inactive
    }
    image_ = std::move(*back);
  }
  config_.capacity = image_.capacity_sectors();
  if (kept.interrupt != nullptr) {
    Interrupt* interrupt = kept.interrupt;
    kept.start_paused = was_paused;
    KILN_TRY(activate(std::move(kept)));
    paused_ = was_paused;
    if (result) interrupt->config_changed();
  }
  return result;
}

namespace {
// The disk as the guest knows it (fixed-width fields, no padding).
struct DiskRecord {
  uint64_t capacity_sectors;
  uint32_t readonly;  // 0 or 1
  uint32_t reserved;  // 0
};
static_assert(sizeof(DiskRecord) == 16);
}  // namespace

void BlockDevice::save_state(snapshot::Encoder& out) const {
  out.pod(DiskRecord{image_.capacity_sectors(), image_.readonly() ? 1u : 0u, 0});
}

Status BlockDevice::restore_state(snapshot::Decoder& in) {
  DiskRecord r{};
  KILN_TRY(in.pod(r));
  if (r.readonly > 1 || r.reserved != 0) return in.invalid("disk record flags are not 0 or 1");
  if (r.capacity_sectors != image_.capacity_sectors()) {
    return fail("disk {}: the snapshot's disk has {} sectors of 512 bytes, this image {}", image_.path(),
                r.capacity_sectors, image_.capacity_sectors());
  }
  if ((r.readonly == 1) != image_.readonly()) {
    return fail("disk {}: the snapshot's disk was {}, this one is {}", image_.path(),
                r.readonly == 1 ? "read-only" : "writable", image_.readonly() ? "read-only" : "writable");
  }
  return {};
}

std::string_view BlockDevice::engine_name() const { return processor_ ? processor_->engine_name() : "inactive"; }

}  // namespace kiln::virtio::blk
