#include "virtio/queue/split_queue.h"

#include <cstring>

#include "virtio/queue/guest_error.h"
#include "virtio/spec.h"

namespace kiln::virtio {
namespace {

constexpr uint64_t kRingHeader = 4;  // flags, idx

bool power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

uint16_t* u16_at(uint8_t* base, uint64_t offset) { return reinterpret_cast<uint16_t*>(base + offset); }

// Ring indices and flags are shared with a driver running on another CPU: accessed with atomic
// loads and stores so neither the compiler nor the CPU tears or caches them.
uint16_t load_acquire(uint8_t* base, uint64_t offset) { return __atomic_load_n(u16_at(base, offset), __ATOMIC_ACQUIRE); }
uint16_t load_relaxed(uint8_t* base, uint64_t offset) { return __atomic_load_n(u16_at(base, offset), __ATOMIC_RELAXED); }
void store_release(uint8_t* base, uint64_t offset, uint16_t v) { __atomic_store_n(u16_at(base, offset), v, __ATOMIC_RELEASE); }
void store_relaxed(uint8_t* base, uint64_t offset, uint16_t v) { __atomic_store_n(u16_at(base, offset), v, __ATOMIC_RELAXED); }

}  // namespace

uint64_t desc_table_bytes(uint16_t size) { return uint64_t{size} * sizeof(Descriptor); }
uint64_t avail_ring_bytes(uint16_t size) { return kRingHeader + uint64_t{size} * 2 + 2; }
uint64_t used_ring_bytes(uint16_t size) { return kRingHeader + uint64_t{size} * sizeof(UsedElement) + 2; }

Result<QueueLayout> legacy_layout(uint16_t size, uint64_t pfn, uint32_t page_size, uint32_t align) {
  if (!power_of_two(size) || size > kMaxQueueSize) {
    return fail_guest("queue size {} is not a power of two up to {}", size, kMaxQueueSize);
  }
  if (!power_of_two(page_size)) return fail_guest("guest page size {:#x} is not a power of two", page_size);
  if (!power_of_two(align)) return fail_guest("queue alignment {:#x} is not a power of two", align);
  uint64_t base = 0;
  if (__builtin_mul_overflow(pfn, uint64_t{page_size}, &base)) return fail_guest("queue PFN {:#x} overflows", pfn);
  const uint64_t avail = base + desc_table_bytes(size);
  // Linux's vring_init: used = ALIGN(avail + sizeof(avail ring with used_event), align).
  const uint64_t avail_end = avail + avail_ring_bytes(size);
  const uint64_t used = (avail_end + align - 1) & ~(uint64_t{align} - 1);
  if (avail < base || used < avail_end || used + used_ring_bytes(size) < used) return fail_guest("queue at PFN {:#x} wraps", pfn);
  return QueueLayout{size, GuestAddress(base), GuestAddress(avail), GuestAddress(used)};
}

Result<SplitQueue> SplitQueue::create(const GuestMemory& mem, const QueueLayout& layout, uint64_t features) {
  const uint16_t n = layout.size;
  if (!power_of_two(n) || n > kMaxQueueSize) return fail_guest("queue size {} is not a power of two up to {}", n, kMaxQueueSize);
  // 2.3: descriptor table 16-byte, available ring 2-byte, used ring 4-byte aligned.
  if (layout.desc.raw() % 16 != 0 || layout.avail.raw() % 2 != 0 || layout.used.raw() % 4 != 0) {
    return fail_guest("queue rings misaligned (desc {:#x}, avail {:#x}, used {:#x})", layout.desc.raw(), layout.avail.raw(),
                      layout.used.raw());
  }
  if (!mem.contains(layout.desc, desc_table_bytes(n))) {
    return fail_guest("descriptor table {:#x} is not inside guest RAM", layout.desc.raw());
  }
  auto avail = mem.slice(layout.avail, avail_ring_bytes(n));
  if (!avail) return fail_guest("available ring {:#x} is not inside guest RAM", layout.avail.raw());
  auto used = mem.slice(layout.used, used_ring_bytes(n));
  if (!used) return fail_guest("used ring {:#x} is not inside guest RAM", layout.used.raw());
  return SplitQueue(mem, layout, features, avail->data(), used->data());
}

SplitQueue::SplitQueue(const GuestMemory& mem, const QueueLayout& layout, uint64_t features, uint8_t* avail,
                       uint8_t* used)
    : mem_(&mem),
      layout_(layout),
      rules_{layout.size, (features & feature(kFRingIndirectDesc)) != 0},
      event_idx_((features & feature(kFRingEventIdx)) != 0),
      avail_(avail),
      used_(used) {}

uint16_t SplitQueue::avail_idx() const {
  // Acquire: the ring entries and descriptors the driver wrote before bumping idx are visible
  // once we see the new idx (2.4.1.3 "write memory barrier" on the driver side pairs with this).
  return load_acquire(avail_, 2);
}

Result<std::optional<DescriptorChain>> SplitQueue::pop() {
  if (broken_) return std::nullopt;
  const uint16_t idx = avail_idx();
  const uint16_t pending = static_cast<uint16_t>(idx - next_avail_);
  if (pending == 0) return std::nullopt;
  if (pending > layout_.size) {
    broken_ = true;
    return fail_guest("available index {} is {} entries ahead of {} in a queue of {}: queue stopped until reset", idx,
                      pending, next_avail_, layout_.size);
  }
  const uint16_t head = load_relaxed(avail_, kRingHeader + 2 * uint64_t{static_cast<uint16_t>(next_avail_ % layout_.size)});
  ++next_avail_;
  auto chain = walk_chain(*mem_, layout_.desc, head, rules_);
  if (!chain) {
    // The driver gets its buffer back, empty; the device never acts on it.
    if (head < layout_.size) KILN_TRY(push_used(head, 0));
    return wrap(fmt::format("descriptor chain at head {}", head), chain.error());
  }
  return std::optional<DescriptorChain>(std::move(*chain));
}

Status SplitQueue::push_used_all(std::span<const UsedElement> elements) {
  for (const UsedElement& e : elements) {
    const uint64_t slot = kRingHeader + uint64_t{static_cast<uint16_t>(next_used_ % layout_.size)} * sizeof(UsedElement);
    std::memcpy(used_ + slot, &e, sizeof(e));
    ++next_used_;
  }
  // Release: every element (and the data in the buffers) is visible before the new idx.
  if (!elements.empty()) store_release(used_, 2, next_used_);
  return {};
}

Status SplitQueue::unpop() {
  if (in_flight() == 0) return fail("unpop with no chain in flight");
  --next_avail_;
  return {};
}

Status SplitQueue::push_used(uint16_t head, uint32_t len) {
  const uint64_t slot = kRingHeader + uint64_t{static_cast<uint16_t>(next_used_ % layout_.size)} * sizeof(UsedElement);
  const UsedElement element{head, len};
  std::memcpy(used_ + slot, &element, sizeof(element));
  ++next_used_;
  // Release: the element (and the data written into the buffers) is visible before the new idx.
  store_release(used_, 2, next_used_);
  return {};
}

bool SplitQueue::needs_interrupt() {
  // Full barrier: our used idx store must be visible before we read the driver's flags/used_event,
  // or both sides could decide the other one will act (2.4.4.2 / Linux virtqueue_kick_prepare).
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  const uint16_t old_used = signalled_used_;
  const uint16_t new_used = next_used_;
  signalled_used_ = new_used;
  if (old_used == new_used) return false;
  if (event_idx_) {
    const uint16_t used_event = load_relaxed(avail_, kRingHeader + 2 * uint64_t{layout_.size});
    // vring_need_event: interrupt when used_event lies in (old_used, new_used].
    return static_cast<uint16_t>(new_used - used_event - 1) < static_cast<uint16_t>(new_used - old_used);
  }
  return (load_relaxed(avail_, 0) & kAvailFNoInterrupt) == 0;
}

void SplitQueue::disable_notification() {
  // With EVENT_IDX, an avail_event left behind means "no notification until the index wraps".
  if (!event_idx_) store_relaxed(used_, 0, kUsedFNoNotify);
}

bool SplitQueue::enable_notification() {
  if (event_idx_) {
    store_relaxed(used_, kRingHeader + uint64_t{layout_.size} * sizeof(UsedElement), next_avail_);
  } else {
    store_relaxed(used_, 0, 0);
  }
  // Full barrier: the driver must see the request before we look for new entries once more.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  return !broken_ && avail_idx() != next_avail_;
}

namespace {

// What a snapshot holds of a queue (fixed-width fields, no padding).
struct QueuePosition {
  uint16_t size;
  uint16_t next_avail;
  uint16_t next_used;
  uint16_t signalled_used;
  uint16_t broken;  // 0 or 1
};
static_assert(sizeof(QueuePosition) == 10);

}  // namespace

void SplitQueue::save_state(snapshot::Encoder& out) const {
  out.pod(QueuePosition{layout_.size, next_avail_, next_used_, signalled_used_, static_cast<uint16_t>(broken_ ? 1 : 0)});
}

Status SplitQueue::restore_state(snapshot::Decoder& in) {
  QueuePosition p{};
  KILN_TRY(in.pod(p));
  if (p.size != layout_.size) return in.invalid(fmt::format("a queue of {} entries saved, {} set up", p.size, layout_.size));
  if (p.broken > 1) return in.invalid(fmt::format("queue broken flag holds {}", p.broken));
  // 2.4.2: the used index in guest memory is the device's own; another value means the memory and
  // the device state come from different moments.
  const uint16_t used_in_memory = load_acquire(used_, 2);
  if (used_in_memory != p.next_used) {
    return in.invalid(fmt::format("used index {} saved, guest memory holds {}", p.next_used, used_in_memory));
  }
  if (static_cast<uint16_t>(p.next_avail - p.next_used) > layout_.size) {
    return in.invalid(fmt::format("next available index {} is more than {} entries past used index {}", p.next_avail,
                                  layout_.size, p.next_used));
  }
  // signalled_used only decides whether the next batch interrupts: every value is safe.
  next_avail_ = p.next_avail;
  next_used_ = p.next_used;
  signalled_used_ = p.signalled_used;
  broken_ = p.broken == 1;
  return {};
}

}  // namespace kiln::virtio
