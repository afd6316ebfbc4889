// Host input waiting for the guest's receive buffers: a bounded byte FIFO shared by kiln's stdin
// thread (push) and the console device thread (peek, then consume what reached the guest). Bytes
// leave only when they have been written into a guest buffer, so a device reset loses nothing.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

namespace kiln::virtio {

class InputBuffer {
 public:
  explicit InputBuffer(size_t capacity) : capacity_(capacity) {}

  // Appends what fits and returns that count; the rest is the caller's to retry or drop.
  [[nodiscard]] size_t push(std::span<const uint8_t> bytes) {
    std::lock_guard lock(mu_);
    const size_t n = std::min(bytes.size(), capacity_ - bytes_.size());
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }

  // Copies up to out.size() bytes from the front without removing them; returns the count.
  [[nodiscard]] size_t peek(std::span<uint8_t> out) const {
    std::lock_guard lock(mu_);
    const size_t n = std::min(out.size(), bytes_.size());
    std::copy_n(bytes_.begin(), n, out.begin());
    return n;
  }

  // Removes `n` bytes from the front (at most what is there).
  void consume(size_t n) {
    {
      std::lock_guard lock(mu_);
      n = std::min(n, bytes_.size());
      bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (n > 0) space_cv_.notify_all();
  }

  // Everything held, front first (snapshot).
  [[nodiscard]] std::vector<uint8_t> contents() const {
    std::lock_guard lock(mu_);
    return {bytes_.begin(), bytes_.end()};
  }
  // Replaces what is held with `bytes` (at most the capacity; the caller checks).
  void assign(std::span<const uint8_t> bytes) {
    {
      std::lock_guard lock(mu_);
      bytes_.assign(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), capacity_)));
    }
    space_cv_.notify_all();
  }
  [[nodiscard]] size_t capacity() const { return capacity_; }

  [[nodiscard]] size_t size() const {
    std::lock_guard lock(mu_);
    return bytes_.size();
  }
  [[nodiscard]] size_t space() const {
    std::lock_guard lock(mu_);
    return capacity_ - bytes_.size();
  }
  // Blocks until there is space or the timeout passes; returns whether there is space.
  [[nodiscard]] bool wait_for_space(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return space_cv_.wait_for(lock, timeout, [&] { return bytes_.size() < capacity_; });
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  mutable std::condition_variable space_cv_;
  std::deque<uint8_t> bytes_;
};

}  // namespace kiln::virtio
