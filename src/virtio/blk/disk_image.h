// The raw image file (or host block device) behind a virtio-blk device: opened once, checked,
// and locked against a second writer. The device does its I/O on fd() through an IoEngine.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln::virtio::blk {

struct BlockOptions {
  std::string path;
  bool readonly = false;  // open O_RDONLY and offer VIRTIO_BLK_F_RO
  std::string serial;     // answered to VIRTIO_BLK_T_GET_ID, at most kIdBytes bytes
  bool direct = false;    // O_DIRECT: bypass the host page cache
};

class DiskImage {
 public:
  // Errors name the path and, where there is one, the fix (a size that is not a multiple of 512,
  // a file kiln may not write, a file system without O_DIRECT, an image another process holds).
  [[nodiscard]] static Result<DiskImage> open(const BlockOptions& options);
  DiskImage() = default;  // no file (closed)

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] uint64_t size_bytes() const { return size_; }
  [[nodiscard]] uint64_t capacity_sectors() const;
  [[nodiscard]] bool readonly() const { return readonly_; }
  [[nodiscard]] bool direct() const { return direct_; }
  [[nodiscard]] const std::string& serial() const { return serial_; }

 private:
  DiskImage(UniqueFd fd, std::string path, uint64_t size, const BlockOptions& options)
      : fd_(std::move(fd)), path_(std::move(path)), size_(size), readonly_(options.readonly),
        direct_(options.direct), serial_(options.serial) {}

  UniqueFd fd_;
  std::string path_;
  uint64_t size_ = 0;
  bool readonly_ = false;
  bool direct_ = false;
  std::string serial_;
};

}  // namespace kiln::virtio::blk
