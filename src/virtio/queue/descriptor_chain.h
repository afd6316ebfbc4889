// A descriptor chain taken from a split virtqueue (virtio 0.9.5, 2.3.2 and 2.4.1), validated once
// when it is popped: every segment lies inside guest RAM, indices stay below the queue size, the
// walk is bounded, indirect tables are not nested and readable segments come before writable
// ones. What a device gets is a copy of the addresses, so a guest rewriting its descriptors
// afterwards changes nothing kiln already checked.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "memory/guest_address.h"
#include "memory/guest_memory.h"

namespace kiln::virtio {

struct Segment {
  GuestAddress addr;
  uint32_t len = 0;
};

class DescriptorChain {
 public:
  DescriptorChain() = default;
  DescriptorChain(uint16_t head, std::vector<Segment> readable, std::vector<Segment> writable)
      : head_(head), readable_(std::move(readable)), writable_(std::move(writable)) {}

  // The head index, which the used ring returns to the driver.
  [[nodiscard]] uint16_t head() const { return head_; }
  // Driver-to-device buffers, then device-to-driver buffers.
  [[nodiscard]] std::span<const Segment> readable() const { return readable_; }
  [[nodiscard]] std::span<const Segment> writable() const { return writable_; }
  [[nodiscard]] uint64_t readable_bytes() const;
  [[nodiscard]] uint64_t writable_bytes() const;

 private:
  uint16_t head_ = 0;
  std::vector<Segment> readable_;
  std::vector<Segment> writable_;
};

struct ChainRules {
  uint16_t queue_size = 0;
  bool indirect = false;  // VIRTIO_RING_F_INDIRECT_DESC negotiated
};

// Walks the chain starting at `head` in the descriptor table at `table` (queue_size entries).
// Limits: at most queue_size descriptors in the table walk, at most kMaxIndirect in one indirect
// table, one indirect table per chain, total length below 4 GiB.
[[nodiscard]] Result<DescriptorChain> walk_chain(const GuestMemory& mem, GuestAddress table, uint16_t head,
                                                 const ChainRules& rules);

// The largest indirect table kiln accepts (entries); Linux never builds larger ones.
inline constexpr uint32_t kMaxIndirect = 1024;

}  // namespace kiln::virtio
