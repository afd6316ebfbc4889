#include "vmm/sampling_thread.h"

#include <chrono>
#include <system_error>

namespace kiln {

Result<std::unique_ptr<SamplingThread>> SamplingThread::start(uint32_t hz, std::function<void()> tick) {
  if (hz == 0) return fail("sampling at 0 Hz");
  std::unique_ptr<SamplingThread> t(new SamplingThread(hz, std::move(tick)));
  try {
    t->thread_ = std::thread([raw = t.get()] { raw->main(); });
  } catch (const std::system_error& e) {
    return fail("starting the guest profiler's thread: {}", e.what());
  }
  return t;
}

SamplingThread::~SamplingThread() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t SamplingThread::ticks() const {
  std::lock_guard lock(mu_);
  return ticks_;
}

void SamplingThread::main() {
  using Clock = std::chrono::steady_clock;
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)) / hz_;
  auto next = Clock::now() + period;
  std::unique_lock lock(mu_);
  while (true) {
    if (cv_.wait_until(lock, next, [this] { return stop_; })) return;
    ++ticks_;
    lock.unlock();
    tick_();
    lock.lock();
    next += period;
    const auto now = Clock::now();
    if (next <= now) next = now + period;  // fell behind: drop the missed ticks
  }
}

}  // namespace kiln
