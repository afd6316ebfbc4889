// A device's record of guest mistakes (malformed chains, bad registers, bad requests): every one
// is counted (the metrics show the count), but only a bounded number reach kiln's log, so a guest
// cannot flood it. The first kFullLines are logged in full; after that at most one line per
// kQuietPeriod says how many more there were and shows the latest. Thread-safe.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace kiln::virtio {

class GuestErrors {
 public:
  static constexpr uint32_t kFullLines = 10;
  static constexpr std::chrono::seconds kQuietPeriod{10};
  using Clock = std::chrono::steady_clock;

  // `label` starts every line ("virtio-blk vda"); settable until the device runs.
  void set_label(std::string label);
  [[nodiscard]] std::string label() const;

  template <typename... Args>
  void report(fmt::format_string<Args...> f, Args&&... args) {
    count_.fetch_add(1, std::memory_order_relaxed);
    // Formatting costs only when the line may be written.
    if (!may_log()) return;
    record(fmt::format(f, std::forward<Args>(args)...));
  }

  [[nodiscard]] uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Lines written to the log so far (for tests: the bound).
  [[nodiscard]] uint64_t lines_logged() const { return lines_.load(std::memory_order_relaxed); }

 private:
  [[nodiscard]] bool may_log() const;
  void record(std::string what);

  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> lines_{0};
  std::atomic<int64_t> next_summary_ns_{0};  // Clock time before which no summary is written
  mutable std::mutex mu_;
  std::string label_ = "virtio";
  uint64_t summarised_ = 0;  // count_ covered by the lines written so far
};

}  // namespace kiln::virtio
