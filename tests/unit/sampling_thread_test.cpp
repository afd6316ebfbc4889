// The profiler's clock thread: it ticks, and destroying it stops and joins it.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "vmm/sampling_thread.h"

namespace kiln {
namespace {

TEST(SamplingThread, TicksUntilDestroyed) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t seen = 0;
  auto thread = SamplingThread::start(1000, [&] {
    std::lock_guard lock(mu);
    ++seen;
    cv.notify_all();
  });
  ASSERT_TRUE(thread) << thread.error().message;
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return seen >= 3; });
  }
  EXPECT_GE((*thread)->ticks(), 3u);
  thread->reset();  // joins: `seen` may go out of scope after this
}

TEST(SamplingThread, ZeroHzIsAnError) {
  auto thread = SamplingThread::start(0, [] {});
  ASSERT_FALSE(thread);
  EXPECT_NE(thread.error().message.find("0 Hz"), std::string::npos);
}

}  // namespace
}  // namespace kiln
