// The device side of a split virtqueue in the legacy layout (virtio 0.9.5, 2.3 and 2.4; Appendix
// X QueuePFN). The rings live in guest memory, which the guest may change at any moment: every
// index read from them is checked before use, and the ring indices are accessed atomically with
// the ordering the spec asks for (see the comments at each barrier).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>

#include "common/result.h"
#include "memory/guest_memory.h"
#include "snapshot/codec.h"
#include "virtio/queue/descriptor_chain.h"
#include "virtio/spec.h"

namespace kiln::virtio {

struct QueueLayout {
  uint16_t size = 0;
  GuestAddress desc;
  GuestAddress avail;
  GuestAddress used;
};

// 2.3 legacy layout: the descriptor table at pfn * page_size, the available ring right after it,
// the used ring at the next multiple of `align`. Fails on sizes that are zero, not a power of
// two, or above the spec's maximum, on an alignment that is not a power of two, and on overflow.
[[nodiscard]] Result<QueueLayout> legacy_layout(uint16_t size, uint64_t pfn, uint32_t page_size, uint32_t align);

// Bytes each part occupies (with the EVENT_IDX trailer, which kiln always reserves).
[[nodiscard]] uint64_t desc_table_bytes(uint16_t size);
[[nodiscard]] uint64_t avail_ring_bytes(uint16_t size);
[[nodiscard]] uint64_t used_ring_bytes(uint16_t size);

class SplitQueue {
 public:
  // Checks that the three parts are inside guest RAM and suitably aligned.
  [[nodiscard]] static Result<SplitQueue> create(const GuestMemory& mem, const QueueLayout& layout, uint64_t features);

  // The next chain the driver made available, or nullopt when there is none. Errors:
  //  - a malformed chain: it has already been returned to the driver as used with length 0;
  //  - a runaway available index (more than `size` entries ahead): the queue stops; every later
  //    pop returns nullopt until the transport resets the device.
  [[nodiscard]] Result<std::optional<DescriptorChain>> pop();

  // Gives back the chain popped last, unused (a network device takes receive buffers ahead of the
  // frames): the next pop returns it again. Only for a chain in flight that was popped last and
  // not pushed; fails when nothing is in flight.
  [[nodiscard]] Status unpop();

  // Returns a chain to the driver with the number of bytes written into its writable part.
  [[nodiscard]] Status push_used(uint16_t head, uint32_t len);
  // Returns several chains at once: the driver sees the used index move once, past all of them (a
  // frame spread over several receive buffers must appear whole: Linux's virtio-net reads the
  // buffers num_buffers names as soon as it sees the first).
  [[nodiscard]] Status push_used_all(std::span<const UsedElement> elements);

  // Whether the driver asked to be interrupted for what was pushed since the last call
  // (VRING_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX, 2.4.3.2 / 2.4.4.2).
  [[nodiscard]] bool needs_interrupt();

  // Notification suppression towards the driver (VRING_USED_F_NO_NOTIFY or avail_event).
  // enable_notification returns true when more chains arrived meanwhile (the caller loops again).
  void disable_notification();
  [[nodiscard]] bool enable_notification();

  // Snapshot: the device's position in the rings (the rings themselves are guest memory). Saved
  // while the device is paused; restored into a queue just created over the same layout, after
  // guest memory was restored from the same snapshot. Restore checks the position against the
  // rings (the used index there must be the saved one) and leaves the queue unchanged on error.
  void save_state(snapshot::Encoder& out) const;
  [[nodiscard]] Status restore_state(snapshot::Decoder& in);

  [[nodiscard]] uint16_t size() const { return layout_.size; }
  [[nodiscard]] bool broken() const { return broken_; }
  [[nodiscard]] uint16_t next_avail() const { return next_avail_; }
  [[nodiscard]] uint16_t next_used() const { return next_used_; }
  // Chains popped and not yet returned to the used ring.
  [[nodiscard]] uint16_t in_flight() const { return static_cast<uint16_t>(next_avail_ - next_used_); }
  [[nodiscard]] const QueueLayout& layout() const { return layout_; }

 private:
  SplitQueue(const GuestMemory& mem, const QueueLayout& layout, uint64_t features, uint8_t* avail, uint8_t* used);
  [[nodiscard]] uint16_t avail_idx() const;

  const GuestMemory* mem_;
  QueueLayout layout_;
  ChainRules rules_;
  bool event_idx_ = false;
  // Host views of the two rings (checked once by create; guest RAM never moves).
  uint8_t* avail_ = nullptr;
  uint8_t* used_ = nullptr;
  uint16_t next_avail_ = 0;
  uint16_t next_used_ = 0;
  uint16_t signalled_used_ = 0;  // next_used_ at the last interrupt decision
  bool broken_ = false;
};

}  // namespace kiln::virtio
