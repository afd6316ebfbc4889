// The driver side of a split virtqueue (virtio 0.9.5, 2.3 and 2.4), well-behaved: a free list of
// descriptors, buffers added as device-readable segments followed by device-writable ones
// (optionally through one indirect table, 2.3.3), the notification decision with or without
// EVENT_IDX, and polling of the used ring. Freestanding; all memory comes from an Arena.
#pragma once

#include <cstdint>

#include "drivers/virtio/raw_ring.h"

namespace kiln::driver {

struct RingOptions {
  bool event_idx = false;     // VIRTIO_RING_F_EVENT_IDX negotiated
  uint16_t indirect_max = 0;  // entries per indirect table (needs VIRTIO_RING_F_INDIRECT_DESC); 0 = none
};

// When add() puts a buffer into an indirect table (only if indirect_max > 0 and it fits).
enum class IndirectPolicy : uint8_t { never, multi_segment, always };

struct Segment {
  uint64_t addr = 0;  // guest physical
  uint32_t len = 0;
};

struct Completion {
  uint64_t token = 0;     // what add() was given
  uint32_t len = 0;       // bytes the device says it wrote (used element len)
  uint32_t writable = 0;  // bytes the driver offered as writable, for checking len
  uint16_t head = 0;      // used element id
};

enum class Poll : uint8_t { empty, done, bad_id };

class SplitRing {
 public:
  static constexpr uint32_t kPageSize = 4096;  // what the transports tell the device (GuestPageSize)

  SplitRing() = default;

  // A zeroed ring of `size` entries (a power of two) with the used ring aligned to `align`, the
  // whole ring page-aligned (QueuePFN), plus bookkeeping and indirect tables, all from `arena`.
  [[nodiscard]] static Outcome<SplitRing> create(Arena& arena, uint16_t size, uint32_t align, const RingOptions& opts) {
    if (!is_power_of_two(size) || size > kMaxQueueSize || !is_power_of_two(align) || align < 16) {
      return Error::bad_argument;
    }
    const RingLayout probe_layout = legacy_ring_layout(0, size, align);
    auto area = arena.allocate(probe_layout.bytes, align > kPageSize ? align : kPageSize);
    if (!area) return area.error();
    auto raw = RawRing::create(arena.window(), legacy_ring_layout(area->phys, size, align));
    if (!raw) return raw.error();
    SplitRing r;
    r.raw_ = raw.value();
    r.opts_ = opts;
    r.link_ = arena.allocate_array<uint16_t>(size);
    r.heads_ = arena.allocate_array<Head>(size);
    if (r.link_ == nullptr || r.heads_ == nullptr) return Error::out_of_memory;
    if (opts.indirect_max > 0) {
      auto tables = arena.allocate(uint64_t{size} * opts.indirect_max * 16, 16);
      if (!tables) return tables.error();
      r.indirect_phys_ = tables->phys;
    }
    for (uint32_t i = 0; i < size; ++i) r.link_[i] = static_cast<uint16_t>((i + 1) & (size - 1u));
    r.free_count_ = size;
    return r;
  }

  void set_indirect_policy(IndirectPolicy p) { policy_ = p; }

  // Adds one buffer: segs[0 .. readable) device-readable, then `writable` device-writable ones.
  // Publishes it in the available ring at once; returns the head descriptor index.
  [[nodiscard]] Outcome<uint16_t> add(const Segment* segs, uint16_t readable, uint16_t writable, uint64_t token) {
    const uint32_t total = uint32_t{readable} + writable;
    if (total == 0 || segs == nullptr) return Error::bad_argument;
    const bool indirect = opts_.indirect_max > 0 && total <= opts_.indirect_max &&
                          (policy_ == IndirectPolicy::always || (policy_ == IndirectPolicy::multi_segment && total > 1));
    const uint32_t needed = indirect ? 1 : total;
    if (needed > free_count_) return Error::no_space;
    const uint16_t head = free_head_;
    uint32_t writable_bytes = 0;
    for (uint32_t i = readable; i < total; ++i) writable_bytes += segs[i].len;
    if (indirect) {
      const uint64_t table = indirect_phys_ + uint64_t{head} * opts_.indirect_max * 16;
      for (uint32_t i = 0; i < total; ++i) {
        const uint16_t flags = static_cast<uint16_t>((i >= readable ? kDescWrite : 0) | (i + 1 < total ? kDescNext : 0));
        (void)raw_.write_desc_at(table, i, Descriptor{segs[i].addr, segs[i].len, flags, static_cast<uint16_t>(i + 1)});
      }
      raw_.write_desc(head, Descriptor{table, total * 16, kDescIndirect, 0});
      free_head_ = link_[head];
    } else {
      uint16_t cur = head;
      for (uint32_t i = 0; i < total; ++i) {
        const bool last = i + 1 == total;
        const uint16_t flags = static_cast<uint16_t>((i >= readable ? kDescWrite : 0) | (last ? 0 : kDescNext));
        raw_.write_desc(cur, Descriptor{segs[i].addr, segs[i].len, flags, last ? uint16_t{0} : link_[cur]});
        if (!last) cur = link_[cur];
      }
      free_head_ = link_[cur];
    }
    free_count_ -= needed;
    heads_[head] = Head{token, writable_bytes, static_cast<uint16_t>(needed), 1};
    ++in_flight_;
    // 2.4.1.2 / 2.4.1.3: the ring entry first, then the index (release, in publish_avail_idx).
    raw_.set_avail_entry(avail_shadow_, head);
    avail_shadow_ = static_cast<uint16_t>(avail_shadow_ + 1);
    raw_.publish_avail_idx(avail_shadow_);
    return head;
  }

  // Whether the device wants a notification for what was added since the last call (2.4.1.4:
  // VRING_USED_F_NO_NOTIFY, or avail_event with EVENT_IDX). The caller then writes QueueNotify.
  [[nodiscard]] bool kick_prepare() {
    RawRing::full_barrier();  // the published idx before the device's flags / avail_event
    const uint16_t old_idx = kicked_idx_;
    kicked_idx_ = avail_shadow_;
    if (old_idx == avail_shadow_) return false;
    if (opts_.event_idx) return need_event(raw_.avail_event(), avail_shadow_, old_idx);
    return (raw_.used_flags() & kUsedNoNotify) == 0;
  }

  // Takes the next used element, if any. A used id that is not a head the driver has out is
  // reported (bad_id, head = that id) and skipped, so a broken device cannot wedge the loop.
  [[nodiscard]] Poll poll(Completion& out) {
    if (last_used_ == raw_.used_idx()) return Poll::empty;
    const UsedElement e = raw_.used_entry(last_used_);
    last_used_ = static_cast<uint16_t>(last_used_ + 1);
    if (interrupts_off_ && opts_.event_idx) raw_.set_used_event(static_cast<uint16_t>(last_used_ + 0x8000));
    out.head = static_cast<uint16_t>(e.id);
    out.len = e.len;
    if (e.id >= size() || heads_[e.id].busy == 0) return Poll::bad_id;
    Head& h = heads_[e.id];
    out.token = h.token;
    out.writable = h.writable;
    uint16_t tail = out.head;
    for (uint16_t i = 1; i < h.count; ++i) tail = link_[tail];
    link_[tail] = free_head_;
    free_head_ = out.head;
    free_count_ += h.count;
    h.busy = 0;
    --in_flight_;
    return Poll::done;
  }

  // Interrupt suppression (2.4.2): VRING_AVAIL_F_NO_INTERRUPT, and with EVENT_IDX a used_event
  // far ahead. enable_interrupts() returns true if used entries are already waiting.
  void disable_interrupts() {
    interrupts_off_ = true;
    raw_.set_avail_flags(kAvailNoInterrupt);
    if (opts_.event_idx) raw_.set_used_event(static_cast<uint16_t>(last_used_ + 0x8000));
  }
  [[nodiscard]] bool enable_interrupts() {
    interrupts_off_ = false;
    raw_.set_avail_flags(0);
    if (opts_.event_idx) raw_.set_used_event(last_used_);
    RawRing::full_barrier();
    return last_used_ != raw_.used_idx();
  }

  [[nodiscard]] uint16_t size() const { return raw_.size(); }
  [[nodiscard]] uint16_t free_count() const { return free_count_; }
  [[nodiscard]] uint16_t in_flight() const { return in_flight_; }
  [[nodiscard]] uint16_t avail_shadow() const { return avail_shadow_; }
  [[nodiscard]] uint16_t last_used() const { return last_used_; }
  [[nodiscard]] const RingOptions& options() const { return opts_; }
  [[nodiscard]] const RingLayout& layout() const { return raw_.layout(); }
  [[nodiscard]] RawRing& raw() { return raw_; }

 private:
  struct Head {
    uint64_t token;
    uint32_t writable;
    uint16_t count;  // descriptors taken from the main table
    uint16_t busy;
  };

  RawRing raw_;
  RingOptions opts_;
  IndirectPolicy policy_ = IndirectPolicy::multi_segment;
  uint16_t* link_ = nullptr;  // driver-private chain / free-list links (the device never sees them)
  Head* heads_ = nullptr;
  uint64_t indirect_phys_ = 0;
  uint16_t free_head_ = 0;
  uint16_t free_count_ = 0;  // uint16_t holds 32768
  uint16_t in_flight_ = 0;
  uint16_t avail_shadow_ = 0;
  uint16_t kicked_idx_ = 0;
  uint16_t last_used_ = 0;
  bool interrupts_off_ = false;
};

}  // namespace kiln::driver
