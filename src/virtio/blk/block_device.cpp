#include "virtio/blk/block_device.h"

#include <unistd.h>

#include <atomic>

#include "common/log.h"

namespace kiln::virtio::blk {

Result<std::shared_ptr<BlockDevice>> BlockDevice::create(const BlockOptions& options, IoMode mode) {
  auto image = KILN_TRY_VALUE(DiskImage::open(options));
  std::shared_ptr<BlockDevice> device(new BlockDevice(std::move(image), mode));
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

Status BlockDevice::on_activate() {
  ProcessorOptions options;
  options.label = image_.path();
  options.disk = DiskInfo{image_.capacity_sectors(), image_.readonly()};
  options.serial = image_.serial();
  // Without VIRTIO_BLK_F_FLUSH the driver never flushes: the cache must be write-through.
  options.write_through = !negotiated(kFFlush);
  options.max_in_flight = kQueueSize;
  options.errors = &guest_errors();
  SplitQueue* q = queue(0);
  if (q == nullptr) return fail("the request queue was not set up");
  processor_ = std::make_unique<RequestProcessor>(mem(), *q, interrupt(), make_engine(), std::move(options));
  return {};
}

std::vector<EventLoop::Source> BlockDevice::extra_sources() {
  std::vector<EventLoop::Source> sources;
  if (const int done = processor_->completion_fd(); done >= 0) sources.push_back({done, [this] { processor_->service(); }});
  return sources;
}

void BlockDevice::on_reset() {
  if (processor_) processor_->quiesce();
  processor_.reset();
}

Status BlockDevice::replace_image(const std::string& path) {
  if (active() && !paused()) {
    return fail_kind(ErrorKind::kState, "disk {}: replaced while the device runs (pause it first)", image_.path());
  }
  const BlockOptions old{image_.path(), image_.readonly(), image_.serial(), image_.direct()};
  BlockOptions next = old;
  next.path = path;
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
      // No file at all: requests fail (capacity 0, fd -1) instead of reaching a reused fd number.
      config_.capacity = 0;
      if (processor_) processor_->switch_file(-1, DiskInfo{0, true});
      return fail("{}; and the old file {} cannot be reopened ({}): the disk now fails every request", image.error().message,
                  old.path, back.error().message);
    }
    image_ = std::move(*back);
  }
  config_.capacity = image_.capacity_sectors();
  if (processor_) processor_->switch_file(image_.fd(), DiskInfo{image_.capacity_sectors(), image_.readonly()});
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
