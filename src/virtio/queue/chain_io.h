// Byte streams over a chain's segments: a request header that spans two buffers reads the same as
// one that does not. All access goes through GuestMemory (the segments were checked when the chain
// was popped; GuestMemory checks again, so these helpers never touch memory outside guest RAM).
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <type_traits>
#include <vector>

#include "common/result.h"
#include "memory/guest_memory.h"
#include "virtio/queue/descriptor_chain.h"

namespace kiln::virtio {

// Sequential cursor over a list of segments.
class SegmentCursor {
 public:
  SegmentCursor(const GuestMemory& mem, std::span<const Segment> segments) : mem_(&mem), segments_(segments) {}

  [[nodiscard]] uint64_t remaining() const;
  [[nodiscard]] uint64_t consumed() const { return consumed_; }
  // Host views (iovecs) of the next `len` bytes, consumed; for readv/writev/io_uring.
  [[nodiscard]] Result<std::vector<iovec>> take_iovecs(uint64_t len);
  [[nodiscard]] Status skip(uint64_t len);

 protected:
  // Calls fn(host span) over the next `len` bytes.
  template <typename Fn>
  [[nodiscard]] Status walk(uint64_t len, Fn&& fn);

  const GuestMemory* mem_;
  std::span<const Segment> segments_;
  size_t index_ = 0;
  uint64_t offset_ = 0;  // into segments_[index_]
  uint64_t consumed_ = 0;
};

class ChainReader : public SegmentCursor {
 public:
  ChainReader(const GuestMemory& mem, const DescriptorChain& chain) : SegmentCursor(mem, chain.readable()) {}
  [[nodiscard]] Status read(std::span<uint8_t> out);
  template <typename T>
  [[nodiscard]] Result<T> read_obj() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    KILN_TRY(read(std::span(reinterpret_cast<uint8_t*>(&value), sizeof(T))));
    return value;
  }
};

class ChainWriter : public SegmentCursor {
 public:
  ChainWriter(const GuestMemory& mem, const DescriptorChain& chain) : SegmentCursor(mem, chain.writable()) {}
  [[nodiscard]] Status write(std::span<const uint8_t> in);
  template <typename T>
  [[nodiscard]] Status write_obj(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }
};

}  // namespace kiln::virtio
