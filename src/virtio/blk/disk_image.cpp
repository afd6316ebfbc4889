#include "virtio/blk/disk_image.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "common/file.h"
#include "virtio/blk/blk_spec.h"

namespace kiln::virtio::blk {
namespace {

// What to say after the system's own words, for the errors a user can fix.
std::string open_hint(int err, const BlockOptions& options) {
  if ((err == EACCES || err == EROFS || err == EPERM) && !options.readonly) {
    return " (kiln needs write access; add ,readonly to give the guest a read-only disk)";
  }
  if (err == EINVAL && options.direct) return " (the file system does not support O_DIRECT; drop ,direct)";
  if (err == ENOENT) return " (check the path)";
  return "";
}

Result<uint64_t> image_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return fail_io(fmt::format("disk image {}: fstat", path));
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) < 0) return fail_io(fmt::format("disk image {}: BLKGETSIZE64", path));
    return bytes;
  }
  return fail_kind(ErrorKind::kConfig, "disk image {}: not a regular file or block device", path);
}

}  // namespace

uint64_t DiskImage::capacity_sectors() const { return size_ >> kSectorShift; }

Result<DiskImage> DiskImage::open(const BlockOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) return fail("disk image: empty path");
  if (options.serial.size() > kIdBytes) {
    return fail("disk image {}: serial '{}' is longer than {} bytes", path, options.serial, kIdBytes);
  }
  // O_NONBLOCK until the type is known: a FIFO would block a read-only open (image_size refuses it).
  int flags = (options.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;
  if (options.direct) flags |= O_DIRECT;
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd) {
    const int err = errno;
    return tl::unexpected(Error{fmt::format("disk image {}: {}{}", path, std::strerror(err), open_hint(err, options)), err,
                                ErrorKind::kIo});
  }
  auto size = KILN_TRY_VALUE(image_size(fd.get(), path));
  KILN_TRY(clear_nonblock(fd.get(), fmt::format("disk image {}", path)));
  // Appendix D: capacity counts 512-byte sectors; a tail kiln cannot address would be lost data.
  if (size % kSectorSize != 0) {
    return fail_kind(ErrorKind::kConfig, "disk image {} is {} bytes, not a multiple of {}: pad it with `truncate -s %{} {}`",
                     path, size, kSectorSize, kSectorSize, path);
  }
  // Two writers (or a writer and a reader) on one image corrupt it: a shared lock for read-only
  // disks, an exclusive one otherwise. File systems without flock support are let through.
  if (::flock(fd.get(), (options.readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
    return fail("disk image {} is in use: another process, or another disk of this VM, holds a lock on it", path);
  }
  return DiskImage(std::move(fd), path, size, options);
}

}  // namespace kiln::virtio::blk
