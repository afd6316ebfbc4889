// Test doubles for the virtio-console unit tests: guest RAM and a driver-side queue (shared with
// the blk tests, virtio_test_queue.h), a recording Output, and a harness
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
#include "virtio_test_queue.h"

namespace kiln::virtio::test {

inline constexpr uint64_t kRamSize = 4 * MiB;

// Polls `pred` until it holds or five seconds pass (the device works on its own thread).
inline bool eventually(const std::function<bool()>& pred) {
  return eventually_within(pred, std::chrono::seconds(5));
}

inline GuestMemory make_ram() { return make_guest_ram(kRamSize); }

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
