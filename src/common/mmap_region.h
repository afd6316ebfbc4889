// Move-only owner of an mmap()ed region.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "common/result.h"

namespace kiln {

class MmapRegion {
 public:
  MmapRegion() = default;
  MmapRegion(MmapRegion&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  MmapRegion& operator=(MmapRegion&& o) noexcept {
    if (this != &o) {
      unmap();
      addr_ = std::exchange(o.addr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  MmapRegion(const MmapRegion&) = delete;
  MmapRegion& operator=(const MmapRegion&) = delete;
  ~MmapRegion() { unmap(); }

  // Private anonymous memory, zero-filled, not backed by any file.
  [[nodiscard]] static Result<MmapRegion> anonymous(size_t size, int extra_flags = MAP_NORESERVE) {
    return map(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
  }
  [[nodiscard]] static Result<MmapRegion> map(void* hint, size_t size, int prot, int flags, int fd,
                                              off_t offset) {
    void* p = ::mmap(hint, size, prot, flags, fd, offset);
    if (p == MAP_FAILED) return fail_errno("mmap");
    MmapRegion r;
    r.addr_ = static_cast<uint8_t*>(p);
    r.size_ = size;
    return r;
  }

  [[nodiscard]] uint8_t* data() const { return addr_; }
  [[nodiscard]] size_t size() const { return size_; }

 private:
  void unmap() {
    if (addr_ != nullptr) ::munmap(addr_, size_);
    addr_ = nullptr;
    size_ = 0;
  }
  uint8_t* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace kiln
