// The driver's view of guest memory: one physically contiguous window, known both by its guest
// physical address (what goes into descriptors and QueuePFN) and by a pointer the driver can
// dereference. In the probe the two are equal (identity map, a static arena); in hosted tests the
// pointer comes from a kiln GuestMemory region or a test buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "drivers/virtio/outcome.h"

namespace kiln::driver {

class PhysWindow {
 public:
  constexpr PhysWindow() = default;
  constexpr PhysWindow(uint64_t phys, uint8_t* host, uint64_t size) : phys_(phys), host_(host), size_(size) {}

  [[nodiscard]] uint64_t phys() const { return phys_; }
  [[nodiscard]] uint8_t* host() const { return host_; }
  [[nodiscard]] uint64_t size() const { return size_; }

  // True if [phys, phys + len) lies inside the window (overflow-safe).
  [[nodiscard]] bool contains(uint64_t phys, uint64_t len) const {
    return phys >= phys_ && phys - phys_ <= size_ && len <= size_ - (phys - phys_);
  }
  // Host pointer for guest physical `phys`, or nullptr if [phys, phys + len) is outside.
  [[nodiscard]] uint8_t* to_host(uint64_t phys, uint64_t len) const {
    return contains(phys, len) ? host_ + (phys - phys_) : nullptr;
  }
  // Guest physical address of a host pointer inside the window (the caller knows it is inside).
  [[nodiscard]] uint64_t to_phys(const void* p) const {
    return phys_ + static_cast<uint64_t>(static_cast<const uint8_t*>(p) - host_);
  }

 private:
  uint64_t phys_ = 0;
  uint8_t* host_ = nullptr;
  uint64_t size_ = 0;
};

// A piece of the window handed out by the arena.
struct DmaBuffer {
  uint64_t phys = 0;
  uint8_t* host = nullptr;
  uint64_t size = 0;
};

// A bump allocator over a window: rings, request headers, data buffers and the driver's own
// bookkeeping. Nothing is ever freed one by one; reset() starts over (between scenarios/tests).
class Arena {
 public:
  constexpr Arena() = default;
  explicit constexpr Arena(PhysWindow window) : window_(window) {}

  // `size` zeroed bytes aligned to `align` (a power of two) in guest physical terms.
  [[nodiscard]] Outcome<DmaBuffer> allocate(uint64_t size, uint64_t align) {
    if (align == 0 || (align & (align - 1)) != 0) return Error::bad_argument;
    const uint64_t base = window_.phys() + used_;
    const uint64_t start = (base + align - 1) & ~(align - 1);
    if (start < base) return Error::out_of_memory;
    const uint64_t offset = start - window_.phys();
    if (offset > window_.size() || size > window_.size() - offset) return Error::out_of_memory;
    used_ = offset + size;
    uint8_t* host = window_.host() + offset;
    for (uint64_t i = 0; i < size; ++i) host[i] = 0;
    return DmaBuffer{start, host, size};
  }

  // An array of `count` T in the arena (driver bookkeeping; T is trivial).
  template <class T>
  [[nodiscard]] T* allocate_array(uint64_t count) {
    if (count > ~uint64_t{0} / sizeof(T)) return nullptr;
    auto b = allocate(count * sizeof(T), alignof(T));
    return b.ok() ? reinterpret_cast<T*>(b->host) : nullptr;
  }

  void reset() { used_ = 0; }
  [[nodiscard]] uint64_t used() const { return used_; }
  [[nodiscard]] uint64_t remaining() const { return window_.size() - used_; }
  [[nodiscard]] const PhysWindow& window() const { return window_; }

 private:
  PhysWindow window_;
  uint64_t used_ = 0;
};

}  // namespace kiln::driver
