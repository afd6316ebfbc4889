// The legacy split-virtqueue layout (virtio 0.9.5, 2.3) and raw access to it: every field of the
// descriptor table, the available ring and the used ring, with no rule enforced. SplitRing
// (split_ring.h) builds the well-behaved driver on top; tests and the probe's hostile runs use
// RawRing directly to build malformed rings on purpose (loops, bogus indices, runaway avail idx).
//
// Layout (2.3, Linux's vring_init):
//   desc  at base:                          size * 16 bytes
//   avail at base + size*16:                flags u16, idx u16, ring[size] u16, used_event u16
//   used  at ALIGN(end of avail, align):    flags u16, idx u16, ring[size] {id u32, len u32},
//                                           avail_event u16
#pragma once

#include <atomic>
#include <cstdint>

#include "drivers/virtio/defs.h"
#include "drivers/virtio/phys_window.h"

namespace kiln::driver {

struct RingLayout {
  uint16_t size = 0;
  uint32_t align = 0;
  uint64_t desc = 0;   // guest physical addresses
  uint64_t avail = 0;
  uint64_t used = 0;
  uint64_t bytes = 0;  // from desc to the end of the used ring
};

[[nodiscard]] constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

[[nodiscard]] constexpr uint64_t desc_table_bytes(uint16_t size) { return uint64_t{16} * size; }
[[nodiscard]] constexpr uint64_t avail_ring_bytes(uint16_t size) { return 2 * (3 + uint64_t{size}); }
[[nodiscard]] constexpr uint64_t used_ring_bytes(uint16_t size) { return 6 + 8 * uint64_t{size}; }

// The layout of a ring of `size` entries at `base` with the used ring aligned to `align`.
// Size and align must be powers of two (checked by the callers that take them from outside).
[[nodiscard]] constexpr RingLayout legacy_ring_layout(uint64_t base, uint16_t size, uint32_t align) {
  RingLayout l;
  l.size = size;
  l.align = align;
  l.desc = base;
  l.avail = base + desc_table_bytes(size);
  const uint64_t avail_end = l.avail + avail_ring_bytes(size);
  l.used = (avail_end + align - 1) & ~(uint64_t{align} - 1);
  l.bytes = l.used + used_ring_bytes(size) - base;
  return l;
}

// 2.4.3.2 / 2.4.4.2 (Linux's vring_need_event): whether moving an index from `old_idx` to
// `new_idx` crosses `event`, i.e. the other side asked to hear about entry `event`.
[[nodiscard]] constexpr bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

class RawRing {
 public:
  RawRing() = default;

  // The ring must lie inside the window with the alignments 2.3 asks for (desc 16, avail 2,
  // used 4), and size must be a power of two up to 32768.
  [[nodiscard]] static Outcome<RawRing> create(const PhysWindow& window, const RingLayout& layout) {
    if (!is_power_of_two(layout.size) || layout.size > kMaxQueueSize || !is_power_of_two(layout.align)) {
      return Error::bad_argument;
    }
    if (layout.desc % 16 != 0 || layout.avail % 2 != 0 || layout.used % 4 != 0) return Error::bad_argument;
    uint8_t* desc = window.to_host(layout.desc, desc_table_bytes(layout.size));
    uint8_t* avail = window.to_host(layout.avail, avail_ring_bytes(layout.size));
    uint8_t* used = window.to_host(layout.used, used_ring_bytes(layout.size));
    if (desc == nullptr || avail == nullptr || used == nullptr) return Error::bad_argument;
    RawRing r;
    r.window_ = window;
    r.layout_ = layout;
    r.desc_ = desc;
    r.avail_ = avail;
    r.used_ = used;
    return r;
  }

  [[nodiscard]] const RingLayout& layout() const { return layout_; }
  [[nodiscard]] uint16_t size() const { return layout_.size; }
  [[nodiscard]] const PhysWindow& window() const { return window_; }

  // --- Descriptor table. Indices are taken modulo the size (the table itself is never left);
  // the fields written are whatever the caller says, including next/addr/len out of range.
  void write_desc(uint16_t index, const Descriptor& d) { __builtin_memcpy(desc_ + 16 * slot(index), &d, 16); }
  [[nodiscard]] Descriptor read_desc(uint16_t index) const {
    Descriptor d;
    __builtin_memcpy(&d, desc_ + 16 * slot(index), 16);
    return d;
  }

  // A descriptor at entry `index` of a table anywhere in the window (indirect tables, nested
  // ones too); false if that entry is outside the window.
  [[nodiscard]] bool write_desc_at(uint64_t table, uint32_t index, const Descriptor& d) const {
    uint8_t* p = window_.to_host(table + uint64_t{16} * index, 16);
    if (p == nullptr) return false;
    __builtin_memcpy(p, &d, 16);
    return true;
  }

  // --- Available ring (written by the driver).
  [[nodiscard]] uint16_t avail_flags() const { return load16(avail_ + 0); }
  void set_avail_flags(uint16_t flags) { store16(avail_ + 0, flags); }
  [[nodiscard]] uint16_t avail_idx() const { return load16(avail_ + 2); }
  // Release: descriptors and ring entries written before are visible to the device first (2.4.1.3).
  void publish_avail_idx(uint16_t idx) { store16_release(avail_ + 2, idx); }
  void set_avail_entry(uint16_t position, uint16_t head) { store16(avail_ + 4 + 2 * slot(position), head); }
  [[nodiscard]] uint16_t avail_entry(uint16_t position) const { return load16(avail_ + 4 + 2 * slot(position)); }
  [[nodiscard]] uint16_t used_event() const { return load16(avail_ + 4 + 2 * uint64_t{size()}); }
  void set_used_event(uint16_t v) { store16(avail_ + 4 + 2 * uint64_t{size()}, v); }

  // Puts `head` at the current avail idx and publishes idx + 1.
  void push_avail(uint16_t head) {
    const uint16_t idx = avail_idx();
    set_avail_entry(idx, head);
    publish_avail_idx(static_cast<uint16_t>(idx + 1));
  }

  // --- Used ring (written by the device; the write side is for tests that play the device).
  [[nodiscard]] uint16_t used_flags() const { return load16(used_ + 0); }
  void set_used_flags(uint16_t flags) { store16(used_ + 0, flags); }
  // Acquire: the used entries before idx are read after it (2.4.2).
  [[nodiscard]] uint16_t used_idx() const { return load16_acquire(used_ + 2); }
  void publish_used_idx(uint16_t idx) { store16_release(used_ + 2, idx); }
  [[nodiscard]] UsedElement used_entry(uint16_t position) const {
    UsedElement e;
    __builtin_memcpy(&e, used_ + 4 + 8 * slot(position), 8);
    return e;
  }
  void set_used_entry(uint16_t position, const UsedElement& e) { __builtin_memcpy(used_ + 4 + 8 * slot(position), &e, 8); }
  [[nodiscard]] uint16_t avail_event() const { return load16(used_ + 4 + 8 * uint64_t{size()}); }
  void set_avail_event(uint16_t v) { store16(used_ + 4 + 8 * uint64_t{size()}, v); }

  // A full barrier: the avail idx store is globally visible before the next load (the
  // notification decision reads used flags / avail_event after publishing, 2.4.1.4).
  static void full_barrier() { std::atomic_thread_fence(std::memory_order_seq_cst); }

 private:
  [[nodiscard]] uint64_t slot(uint16_t position) const { return position & (layout_.size - 1u); }
  // The ring memory is shared with the device: every u16 index/flag access is atomic.
  static uint16_t load16(uint8_t* p) {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).load(std::memory_order_relaxed);
  }
  static uint16_t load16_acquire(uint8_t* p) {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).load(std::memory_order_acquire);
  }
  static void store16(uint8_t* p, uint16_t v) {
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, std::memory_order_relaxed);
  }
  static void store16_release(uint8_t* p, uint16_t v) {
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(v, std::memory_order_release);
  }

  PhysWindow window_;
  RingLayout layout_;
  uint8_t* desc_ = nullptr;
  uint8_t* avail_ = nullptr;
  uint8_t* used_ = nullptr;
};

}  // namespace kiln::driver
