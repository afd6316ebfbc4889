#include "virtio/queue/descriptor_chain.h"

#include "virtio/queue/guest_error.h"
#include "virtio/spec.h"

namespace kiln::virtio {
namespace {

constexpr uint64_t kMaxChainBytes = uint64_t{1} << 32;

struct Walk {
  const GuestMemory& mem;
  std::vector<Segment> readable;
  std::vector<Segment> writable;
  uint64_t total = 0;

  // Adds one buffer descriptor (not an indirect one) after checking it.
  Status add(const Descriptor& d) {
    const GuestAddress addr(d.addr);
    if (!mem.contains(addr, d.len)) {
      return fail_guest("buffer {:#x}+{:#x} is not inside guest RAM", d.addr, d.len);
    }
    total += d.len;
    if (total >= kMaxChainBytes) return fail_guest("chain longer than 4 GiB");
    if ((d.flags & kDescFWrite) != 0) {
      writable.push_back({addr, d.len});
    } else {
      // 2.4.1: "device-readable buffers ... before device-writable ones".
      if (!writable.empty()) return fail_guest("a device-readable buffer follows a device-writable one");
      readable.push_back({addr, d.len});
    }
    return {};
  }
};

Status walk_indirect(Walk& walk, const Descriptor& d) {
  // 2.4.3 indirect descriptors: the buffer is a table of descriptors, chained from entry 0.
  if ((d.flags & kDescFNext) != 0) return fail_guest("indirect descriptor with NEXT set");
  if (d.len == 0 || d.len % sizeof(Descriptor) != 0) return fail_guest("indirect table length {:#x}", d.len);
  const uint32_t count = d.len / static_cast<uint32_t>(sizeof(Descriptor));
  if (count > kMaxIndirect) return fail_guest("indirect table of {} entries (limit {})", count, kMaxIndirect);
  const GuestAddress table(d.addr);
  if (!walk.mem.contains(table, d.len)) return fail_guest("indirect table {:#x}+{:#x} is not inside guest RAM", d.addr, d.len);
  uint32_t index = 0;
  for (uint32_t hops = 0;; ++hops) {
    if (hops >= count) return fail_guest("indirect chain loops");
    auto entry = KILN_TRY_VALUE(walk.mem.read_obj<Descriptor>(table.unchecked_add(uint64_t{index} * sizeof(Descriptor))));
    if ((entry.flags & kDescFIndirect) != 0) return fail_guest("nested indirect table");
    KILN_TRY(walk.add(entry));
    if ((entry.flags & kDescFNext) == 0) return {};
    index = entry.next;
    if (index >= count) return fail_guest("indirect next index {} outside table of {}", index, count);
  }
}

}  // namespace

uint64_t DescriptorChain::readable_bytes() const {
  uint64_t n = 0;
  for (const auto& s : readable_) n += s.len;
  return n;
}

uint64_t DescriptorChain::writable_bytes() const {
  uint64_t n = 0;
  for (const auto& s : writable_) n += s.len;
  return n;
}

Result<DescriptorChain> walk_chain(const GuestMemory& mem, GuestAddress table, uint16_t head, const ChainRules& rules) {
  if (head >= rules.queue_size) return fail_guest("head index {} outside queue of {}", head, rules.queue_size);
  Walk walk{mem, {}, {}, 0};
  uint16_t index = head;
  for (uint32_t hops = 0;; ++hops) {
    if (hops >= rules.queue_size) return fail_guest("chain from head {} loops or is longer than the queue", head);
    auto d = KILN_TRY_VALUE(mem.read_obj<Descriptor>(table.unchecked_add(uint64_t{index} * sizeof(Descriptor))));
    if ((d.flags & kDescFIndirect) != 0) {
      if (!rules.indirect) return fail_guest("indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC");
      // An indirect descriptor is the whole chain (2.4.3: it may not be chained further here).
      if (hops != 0 || !walk.readable.empty() || !walk.writable.empty()) {
        return fail_guest("indirect descriptor in the middle of a chain");
      }
      KILN_TRY(walk_indirect(walk, d));
      break;
    }
    KILN_TRY(walk.add(d));
    if ((d.flags & kDescFNext) == 0) break;
    index = d.next;
    if (index >= rules.queue_size) return fail_guest("next index {} outside queue of {}", index, rules.queue_size);
  }
  return DescriptorChain(head, std::move(walk.readable), std::move(walk.writable));
}

}  // namespace kiln::virtio
