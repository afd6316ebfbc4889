// virtio-blk (device ID 2, virtio 0.9.5 Appendix D) over a raw image: one request queue served
// on the device's own thread, with asynchronous I/O through io_uring (or synchronous system calls
// where io_uring is unavailable). Reset waits for the I/O the kernel still holds.
#pragma once

#include <memory>

#include "virtio/blk/blk_spec.h"
#include "virtio/blk/disk_image.h"
#include "virtio/blk/request_processor.h"
#include "virtio/queue_device.h"
#include "virtio/spec.h"

namespace kiln::virtio::blk {

enum class IoMode {
  kAuto,  // io_uring, or synchronous I/O (logged once) when io_uring cannot be set up
  kSync,  // synchronous I/O always
};

class BlockDevice final : public QueueDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  // What kiln accepts per request (config seg_max): a chain of table descriptors holds at most
  // the queue size, two of which are the header and the status.
  static constexpr uint32_t kSegMax = kQueueSize - 2;

  // Opens and checks the image (see DiskImage::open for the errors).
  [[nodiscard]] static Result<std::shared_ptr<BlockDevice>> create(const BlockOptions& options, IoMode mode = IoMode::kAuto);
  BlockDevice(const BlockDevice&) = delete;
  BlockDevice& operator=(const BlockDevice&) = delete;
  ~BlockDevice() override { reset(); }

  [[nodiscard]] std::string_view name() const override { return "blk"; }
  [[nodiscard]] uint32_t device_id() const override { return kIdBlock; }
  [[nodiscard]] uint64_t features() const override;
  [[nodiscard]] uint16_t num_queues() const override { return 1; }
  [[nodiscard]] uint16_t queue_max_size(uint16_t) const override { return kQueueSize; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  void write_config(uint64_t, std::span<const uint8_t>) override {}  // nothing writable is offered
  // Nothing is in flight after pause(); the record holds the disk's capacity and read-only flag
  // so that a snapshot is not restored against a different disk.
  void save_state(snapshot::Encoder& out) const override;
  [[nodiscard]] Status restore_state(snapshot::Decoder& in) override;

  // PATCH /drives: a new backing file, same read-only/direct/serial options. Only while the
  // device is quiesced (inactive, or paused: nothing in flight), which the transport's
  // change_device() guarantees; it also announces the new capacity to the driver afterwards. On
  // error the old file stays (when it can be reopened; otherwise the error says so and later
  // requests fail with an I/O error).
  [[nodiscard]] Status replace_image(const std::string& path);

  [[nodiscard]] const DiskImage& image() const { return image_; }
  // While active: the engine in use ("io_uring" or "synchronous"); "inactive" otherwise.
  [[nodiscard]] std::string_view engine_name() const;

 private:
  BlockDevice(DiskImage image, IoMode mode) : QueueDevice("kiln-blk"), image_(std::move(image)), mode_(mode) {}
  [[nodiscard]] std::unique_ptr<IoEngine> make_engine() const;

  [[nodiscard]] Status on_activate() override;
  [[nodiscard]] std::vector<EventLoop::Source> extra_sources() override;
  void on_notify(uint16_t) override { processor_->service(); }
  // The thread is parked: wait for the I/O the kernel holds and return those requests.
  [[nodiscard]] Status on_pause() override { return processor_->complete_in_flight(); }
  // Waits for the kernel to finish with guest memory; nothing is pushed to the rings.
  void on_reset() override;

  DiskImage image_;
  IoMode mode_;
  Config config_{};
  std::unique_ptr<RequestProcessor> processor_;  // while active
};

}  // namespace kiln::virtio::blk
