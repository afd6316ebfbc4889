// Shared by the device unit tests (blk, console): guest RAM, a driver-side queue that writes
// chains by hand into it (direct, or through an indirect table), and a recording Interrupt.
// Tests of the queue itself and of the transports use the driver library (drivers/virtio).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "memory/guest_memory.h"
#include "virtio/device.h"
#include "virtio/queue/split_queue.h"
#include "virtio/spec.h"

namespace kiln::virtio::test {

// Polls `pred` until it holds or `timeout` passes (devices work on their own threads).
inline bool eventually_within(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

inline GuestMemory make_guest_ram(uint64_t size) {
  const std::array ranges{MemoryRange{GuestAddress(0), size}};
  auto mem = GuestMemory::create(ranges);
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

struct Buf {
  uint64_t addr;
  uint32_t len;
  bool device_writes = false;
};

// The driver's side of one queue (legacy layout at `base`, 4 KiB alignment).
class DriverQueue {
 public:
  DriverQueue(const GuestMemory& mem, uint64_t base, uint16_t size) : mem_(&mem) {
    auto layout = legacy_layout(size, base / 4096, 4096, 4096);
    EXPECT_TRUE(layout.has_value());
    layout_ = *layout;
  }
  [[nodiscard]] const QueueLayout& layout() const { return layout_; }

  // Writes the chain into the next free descriptors (or into an indirect table at `table`, one
  // ring descriptor pointing to it) and makes it available; returns the head.
  uint16_t add(const std::vector<Buf>& bufs, std::optional<uint64_t> table = std::nullopt) {
    if (table) {
      for (size_t i = 0; i < bufs.size(); ++i) {
        const bool last = i + 1 == bufs.size();
        EXPECT_TRUE(mem_->write_obj(GuestAddress(*table + i * sizeof(Descriptor)),
                                    descriptor(bufs[i], last, static_cast<uint16_t>(last ? 0 : i + 1))));
      }
      const uint16_t head = take_desc();
      set_desc(head, {*table, static_cast<uint32_t>(bufs.size() * sizeof(Descriptor)), kDescFIndirect, 0});
      publish(head);
      return head;
    }
    const uint16_t head = next_desc_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      const uint16_t index = take_desc();
      const bool last = i + 1 == bufs.size();
      set_desc(index, descriptor(bufs[i], last, last ? uint16_t{0} : next_desc_));
    }
    publish(head);
    return head;
  }
  void set_desc(uint16_t index, const Descriptor& d) {
    EXPECT_TRUE(mem_->write_obj(layout_.desc.unchecked_add(uint64_t{index} * sizeof(Descriptor)), d));
  }
  // Puts `head` in the next available slot and bumps the index.
  void publish(uint16_t head) {
    EXPECT_TRUE(mem_->write_obj(layout_.avail.unchecked_add(4 + 2 * static_cast<uint64_t>(avail_idx_ % layout_.size)), head));
    ++avail_idx_;
    // Release, as a driver's write barrier before the index (2.4.1.3): the device sees the
    // descriptors and the ring entry once it sees the new index.
    auto host = mem_->slice(layout_.avail.unchecked_add(2), 2);
    __atomic_store_n(reinterpret_cast<uint16_t*>(host->data()), avail_idx_, __ATOMIC_RELEASE);
  }
  void set_avail_flags(uint16_t flags) { EXPECT_TRUE(mem_->write_obj(layout_.avail, flags)); }
  [[nodiscard]] uint16_t avail_idx() const { return avail_idx_; }
  [[nodiscard]] uint16_t used_idx() const {
    auto host = mem_->slice(layout_.used.unchecked_add(2), 2);
    return __atomic_load_n(reinterpret_cast<const uint16_t*>(host->data()), __ATOMIC_ACQUIRE);
  }
  [[nodiscard]] UsedElement used(uint16_t i) const {
    auto e = mem_->read_obj<UsedElement>(layout_.used.unchecked_add(4 + sizeof(UsedElement) * static_cast<uint64_t>(i % layout_.size)));
    return e.value_or(UsedElement{0xffff, 0xffff});
  }
  // The used length the device gave chain `head` (completions come in any order), or ~0u.
  [[nodiscard]] uint32_t used_len_of(uint16_t head) const {
    for (uint16_t i = 0; i < used_idx(); ++i) {
      if (used(i).id == head) return used(i).len;
    }
    return ~0u;
  }
  [[nodiscard]] bool in_flight_below(uint16_t n) const { return static_cast<uint16_t>(avail_idx_ - used_idx()) < n; }

 private:
  static Descriptor descriptor(const Buf& b, bool last, uint16_t next) {
    return {b.addr, b.len, static_cast<uint16_t>((b.device_writes ? kDescFWrite : 0) | (last ? 0 : kDescFNext)), next};
  }
  uint16_t take_desc() {
    const uint16_t index = next_desc_;
    next_desc_ = static_cast<uint16_t>((next_desc_ + 1) % layout_.size);
    return index;
  }
  const GuestMemory* mem_;
  QueueLayout layout_;
  uint16_t next_desc_ = 0;
  uint16_t avail_idx_ = 0;
};

class RecordingInterrupt final : public Interrupt {
 public:
  void used_buffer(uint16_t) override { ++used; }
  void config_changed() override { ++config; }
  std::atomic<int> used{0};
  std::atomic<int> config{0};
};

}  // namespace kiln::virtio::test
