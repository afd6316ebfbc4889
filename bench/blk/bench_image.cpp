#include "bench_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>
#include <vector>

#include "common/unique_fd.h"

namespace kiln::bench {
namespace {

constexpr uint64_t kChunk = 1u << 20;

bool writable_dir(const char* path) {
  struct stat st{};
  return path != nullptr && *path != '\0' && ::stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
         ::access(path, W_OK | X_OK) == 0;
}

Status fill(int fd, uint64_t bytes) {
  std::vector<uint64_t> chunk(kChunk / sizeof(uint64_t));
  uint64_t state = 0x2545f4914f6cdd1dull;
  for (uint64_t off = 0; off < bytes; off += kChunk) {
    for (auto& word : chunk) {
      state ^= state << 13;  // xorshift64
      state ^= state >> 7;
      state ^= state << 17;
      word = state;
    }
    if (::pwrite(fd, chunk.data(), kChunk, static_cast<off_t>(off)) != static_cast<ssize_t>(kChunk)) {
      return fail_errno("writing the image");
    }
  }
  // Written back now, not while something is being timed (a no-op on tmpfs).
  if (::fdatasync(fd) != 0) return fail_errno("fdatasync on the image");
  return {};
}

// One pass through the file so that every page is cached.
Status warm(int fd, uint64_t bytes) {
  std::vector<char> buf(kChunk);
  for (uint64_t off = 0; off < bytes; off += kChunk) {
    if (::pread(fd, buf.data(), kChunk, static_cast<off_t>(off)) != static_cast<ssize_t>(kChunk)) {
      return fail_errno("reading the image back");
    }
  }
  return {};
}

}  // namespace

std::string default_image_parent() {
  if (writable_dir("/dev/shm")) return "/dev/shm";
  const char* tmp = std::getenv("TMPDIR");
  return writable_dir(tmp) ? tmp : "/tmp";
}

Result<BenchImage> BenchImage::create(const std::string& parent, uint64_t bytes) {
  if (bytes == 0 || bytes % kChunk != 0) return fail("image size {} is not a positive multiple of 1 MiB", bytes);
  std::string templ = parent + "/kiln-blk-bench.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return fail_errno("mkdtemp in " + parent);
  BenchImage image(templ, templ + "/disk.img", bytes);  // removes what exists from here on
  UniqueFd fd(::open(image.path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("creating " + image.path_);
  KILN_TRY(fill(fd.get(), bytes));
  KILN_TRY(warm(fd.get(), bytes));
  return image;
}

BenchImage::BenchImage(BenchImage&& other) noexcept
    : dir_(std::exchange(other.dir_, "")), path_(std::move(other.path_)), bytes_(other.bytes_) {}

BenchImage::~BenchImage() {
  if (dir_.empty()) return;
  ::unlink(path_.c_str());
  ::rmdir(dir_.c_str());
}

}  // namespace kiln::bench
