// Test doubles for the virtio-console unit tests: guest RAM, a driver-side split queue that
// hand-builds descriptor chains in it, a recording Interrupt, a recording Output, and a harness
// that activates a ConsoleDevice the way the transport does.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/event_fd.h"
#include "memory/guest_memory.h"
#include "virtio/console/console.h"
#include "virtio/queue/split_queue.h"
#include "virtio/spec.h"

namespace kiln::virtio::test {

inline constexpr uint64_t kRamSize = 4 * MiB;

// Polls `pred` until it holds or five seconds pass (the device works on its own thread).
inline bool eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

inline GuestMemory make_ram() {
  const std::array ranges{MemoryRange{GuestAddress(0), kRamSize}};
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

  // Writes the chain into free descriptors and makes it available; returns its head.
  uint16_t add(const std::vector<Buf>& bufs) {
    const uint16_t head = next_desc_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      const uint16_t index = next_desc_;
      next_desc_ = static_cast<uint16_t>((next_desc_ + 1) % layout_.size);
      const bool last = i + 1 == bufs.size();
      set_desc(index, {bufs[i].addr, bufs[i].len,
                       static_cast<uint16_t>((bufs[i].device_writes ? kDescFWrite : 0) | (last ? 0 : kDescFNext)),
                       last ? uint16_t{0} : next_desc_});
    }
    publish(head);
    return head;
  }
  void set_desc(uint16_t index, const Descriptor& d) {
    EXPECT_TRUE(mem_->write_obj(layout_.desc.unchecked_add(uint64_t{index} * sizeof(Descriptor)), d));
  }
  // Puts `head` in the next available slot and bumps the index.
  void publish(uint16_t head) {
    const uint64_t slot = avail_idx_ % layout_.size;
    EXPECT_TRUE(mem_->write_obj(layout_.avail.unchecked_add(4 + 2 * slot), head));
    ++avail_idx_;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    EXPECT_TRUE(mem_->write_obj(layout_.avail.unchecked_add(2), avail_idx_));
  }
  void set_avail_flags(uint16_t flags) { EXPECT_TRUE(mem_->write_obj(layout_.avail, flags)); }
  [[nodiscard]] uint16_t avail_idx() const { return avail_idx_; }
  [[nodiscard]] uint16_t used_idx() const {
    auto host = mem_->slice(layout_.used.unchecked_add(2), 2);
    return __atomic_load_n(reinterpret_cast<const uint16_t*>(host->data()), __ATOMIC_ACQUIRE);
  }
  [[nodiscard]] UsedElement used(uint16_t i) const {
    const uint64_t slot = i % layout_.size;
    auto e = mem_->read_obj<UsedElement>(layout_.used.unchecked_add(4 + sizeof(UsedElement) * slot));
    return e.value_or(UsedElement{0xffff, 0xffff});
  }
  [[nodiscard]] bool in_flight_below(uint16_t n) const { return static_cast<uint16_t>(avail_idx_ - used_idx()) < n; }

 private:
  const GuestMemory* mem_;
  QueueLayout layout_;
  uint16_t next_desc_ = 0;
  uint16_t avail_idx_ = 0;
};

class RecordingInterrupt final : public Interrupt {
 public:
  void used_buffer() override { ++used; }
  void config_changed() override { ++config; }
  std::atomic<int> used{0};
  std::atomic<int> config{0};
};

class RecordingOutput {
 public:
  ConsoleDevice::Output callback() {
    return [this](std::span<const uint8_t> bytes) {
      std::lock_guard lock(mu_);
      bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
      pieces_.push_back(bytes.size());
    };
  }
  std::vector<uint8_t> bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
  }
  std::vector<size_t> pieces() const {
    std::lock_guard lock(mu_);
    return pieces_;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return bytes_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<uint8_t> bytes_;
  std::vector<size_t> pieces_;
};

// Guest RAM layout: receiveq at 64 KiB, transmitq at 128 KiB, data buffers from 1 MiB.
inline constexpr uint64_t kRxBase = 64 * KiB;
inline constexpr uint64_t kTxBase = 128 * KiB;
inline constexpr uint64_t kData = 1 * MiB;

// One guest with a console device: activate() plays the transport's part at DRIVER_OK.
struct ConsoleHarness {
  explicit ConsoleHarness(WindowSize size = {}) : device(output.callback(), size) {}
  ~ConsoleHarness() { device.reset(); }

  [[nodiscard]] bool activate() { return activate(device.features()); }
  [[nodiscard]] bool activate(uint64_t features) {
    Activation a;
    a.mem = &mem;
    a.features = features;
    a.interrupt = &interrupt;
    for (DriverQueue* q : {&rx, &tx}) {
      ActiveQueue aq;
      auto queue = SplitQueue::create(mem, q->layout(), features);
      EXPECT_TRUE(queue.has_value());
      aq.queue.emplace(std::move(*queue));
      aq.notify_fd = (q == &rx ? rx_notify : tx_notify).fd();
      a.queues.push_back(std::move(aq));
    }
    return device.activate(std::move(a)).has_value();
  }
  void kick_rx() { rx_notify.signal(); }
  void kick_tx() { tx_notify.signal(); }
  std::vector<uint8_t> read(uint64_t addr, size_t len) {
    std::vector<uint8_t> out(len);
    EXPECT_TRUE(mem.read(GuestAddress(addr), out));
    return out;
  }
  void write(uint64_t addr, std::string_view text) {
    EXPECT_TRUE(mem.write(GuestAddress(addr), std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  }

  GuestMemory mem = make_ram();
  DriverQueue rx{mem, kRxBase, 16};
  DriverQueue tx{mem, kTxBase, 16};
  EventFd rx_notify = *EventFd::create();
  EventFd tx_notify = *EventFd::create();
  RecordingInterrupt interrupt;
  RecordingOutput output;
  ConsoleDevice device;
};

inline std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string text_of(const std::vector<uint8_t>& v) { return {v.begin(), v.end()}; }

}  // namespace kiln::virtio::test
