// The guest profiler's clock: a thread that calls `tick` `hz` times a second until destroyed.
// Ticks it falls behind on are dropped, not made up in a burst.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/result.h"

namespace kiln {

class SamplingThread {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SamplingThread>> start(uint32_t hz, std::function<void()> tick);
  SamplingThread(const SamplingThread&) = delete;
  SamplingThread& operator=(const SamplingThread&) = delete;
  // Stops and joins: `tick` is not running and will not run again once this returns.
  ~SamplingThread();

  // Ticks so far.
  [[nodiscard]] uint64_t ticks() const;

 private:
  SamplingThread(uint32_t hz, std::function<void()> tick) : hz_(hz), tick_(std::move(tick)) {}
  void main();

  const uint32_t hz_;
  const std::function<void()> tick_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t ticks_ = 0;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace kiln
