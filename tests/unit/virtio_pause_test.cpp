// Pausing for a snapshot: the event loop parks between callbacks and keeps what became readable;
// virtio-blk completes what the kernel holds before pause() returns and starts nothing new until
// resume(); the console keeps host input and size changes to itself while paused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/event_fd.h"
#include "common/event_loop.h"
#include "virtio_blk_test_util.h"
#include "virtio_console_test_util.h"

namespace kiln {
namespace {

using namespace std::chrono_literals;
using virtio::test::eventually_within;

bool eventually(const std::function<bool()>& pred) { return eventually_within(pred, 5s); }

// Long enough for a running device thread to have acted on a notify.
void settle() { std::this_thread::sleep_for(50ms); }

TEST(EventLoopPause, ParksAndServesWhatArrivedAfterResume) {
  EventFd fd = *EventFd::create();
  std::atomic<int> runs{0};
  auto loop = EventLoop::start("test-loop", {{fd.fd(), [&] {
                                                (void)fd.consume();
                                                ++runs;
                                              }}});
  ASSERT_TRUE(loop);
  fd.signal();
  ASSERT_TRUE(eventually([&] { return runs == 1; }));
  (*loop)->pause();
  fd.signal();
  settle();
  EXPECT_EQ(runs, 1);
  (*loop)->pause();  // twice is once
  (*loop)->resume();
  ASSERT_TRUE(eventually([&] { return runs == 2; }));
  (*loop)->resume();  // not paused: nothing
  fd.signal();
  ASSERT_TRUE(eventually([&] { return runs == 3; }));
}

TEST(EventLoopPause, PauseWaitsForTheCallbackRunningNow) {
  EventFd fd = *EventFd::create();
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  auto loop = EventLoop::start("test-loop", {{fd.fd(), [&] {
                                                (void)fd.consume();
                                                entered = true;
                                                while (!release) std::this_thread::sleep_for(1ms);
                                                finished = true;
                                              }}});
  ASSERT_TRUE(loop);
  fd.signal();
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  std::atomic<bool> paused{false};
  std::thread pauser([&] {
    (*loop)->pause();
    paused = true;
  });
  settle();
  EXPECT_FALSE(paused);
  release = true;
  pauser.join();
  EXPECT_TRUE(finished);
}

TEST(EventLoopPause, StartsPausedAndStopsWhileParked) {
  EventFd fd = *EventFd::create();
  std::atomic<int> runs{0};
  auto loop = EventLoop::start("test-loop", {{fd.fd(), [&] {
                                                (void)fd.consume();
                                                ++runs;
                                              }}},
                               /*paused=*/true);
  ASSERT_TRUE(loop);
  fd.signal();
  settle();
  EXPECT_EQ(runs, 0);
  (*loop)->resume();
  ASSERT_TRUE(eventually([&] { return runs == 1; }));
  (*loop)->pause();
  fd.signal();
  (*loop)->stop();  // wakes the parked thread and joins it
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace kiln

namespace kiln::virtio::blk::test {
namespace {

using namespace std::chrono_literals;

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

TEST(VirtioBlkPause, CompleteInFlightWaitsForTheKernelAndAnswers) {
  // A read of an empty pipe stays in io_uring until the test writes.
  Pipe pipe;
  auto engine = make_uring_engine(pipe.fds[0], BlockDevice::kQueueSize);
  if (!engine) GTEST_SKIP() << "no io_uring: " << engine.error().message;
  ProcessorHarness h(std::move(*engine), DiskInfo{1024, false}, 8);
  h.submit(0, kTypeIn, 0, 512);
  h.processor->service();
  ASSERT_EQ(h.processor->in_flight(), 1);
  h.submit(1, kTypeIn, 1, 512);  // made available after the pass: not started by the pause
  std::atomic<bool> returned{false};
  Status result;
  std::thread pauser([&] {
    result = h.processor->complete_in_flight();
    returned = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(returned.load());
  const std::vector<uint8_t> bytes(512, 0x3c);
  ASSERT_EQ(::write(pipe.fds[1], bytes.data(), bytes.size()), 512);
  pauser.join();
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(h.processor->in_flight(), 0);
  EXPECT_EQ(h.queue.used_idx(), 1);
  EXPECT_EQ(h.queue.used(0).len, 513u);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.read(Guest::data_addr(0), 512), bytes);
  EXPECT_EQ(h.status(1), kUnwritten);
  EXPECT_EQ(h.interrupt.used, 1);
}

class VirtioBlkPause : public ::testing::TestWithParam<IoMode> {};

TEST_P(VirtioBlkPause, AnswersEverythingStartedAndNothingMoreUntilResume) {
  TempImage image(4 * MiB);
  DeviceHarness h(image.options(), GetParam());
  ASSERT_TRUE(h.activate());
  constexpr uint32_t kCount = 100;
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    h.queue.add(h.request(slot, kTypeIn, 64 * uint64_t{slot}, {{kData + 32 * KiB * uint64_t{slot}, 32 * KiB, true}}),
                kTables + KiB * slot);
  }
  h.kick();
  ASSERT_TRUE(h.device->pause());
  // Everything the device took from the ring is back in it, answered.
  const SplitQueue* q = h.device->active_queue(0);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->in_flight(), 0);
  const uint16_t used = h.queue.used_idx();
  EXPECT_EQ(q->next_used(), used);
  uint32_t answered = 0;
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    const uint8_t s = h.status(slot);
    ASSERT_TRUE(s == kStatusOk || s == kUnwritten) << slot;
    if (s == kStatusOk) ++answered;
  }
  EXPECT_EQ(answered, used);
  if (used > 0) {
    EXPECT_GE(h.interrupt.used, 1);
  }
  // Paused: a new notify is not acted on.
  const int interrupts = h.interrupt.used;
  h.submit(kCount, kTypeIn, 0, 512);
  h.kick();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(h.queue.used_idx(), used);
  EXPECT_EQ(h.status(kCount), kUnwritten);
  EXPECT_EQ(h.interrupt.used, interrupts);
  h.device->resume();
  ASSERT_TRUE(h.wait_used(kCount + 1));
  for (uint32_t slot = 0; slot <= kCount; ++slot) ASSERT_EQ(h.status(slot), kStatusOk) << slot;
}

TEST_P(VirtioBlkPause, InactiveDeviceAndRepeatedCalls) {
  TempImage image(64 * KiB);
  DeviceHarness h(image.options(), GetParam());
  ASSERT_TRUE(h.device->pause());  // nothing to do
  h.device->resume();
  EXPECT_EQ(h.device->active_queue(0), nullptr);
  ASSERT_TRUE(h.activate());
  ASSERT_TRUE(h.device->pause());
  ASSERT_TRUE(h.device->pause());
  h.device->reset();  // a paused device resets like a running one
  ASSERT_TRUE(h.activate());
  h.submit(0, kTypeIn, 0, 512);
  h.kick();
  ASSERT_TRUE(h.wait_used(1));
}

INSTANTIATE_TEST_SUITE_P(Engines, VirtioBlkPause, ::testing::Values(IoMode::kAuto, IoMode::kSync), engine_label);

}  // namespace
}  // namespace kiln::virtio::blk::test

namespace kiln::virtio::test {
namespace {

using namespace std::chrono_literals;

TEST(VirtioConsolePause, InputOutputAndSizeChangesWaitForResume) {
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  ASSERT_TRUE(eventually([&] { return h.interrupt.config == 1; }));  // the initial size
  h.rx.add({{kData, 64, true}});
  h.kick_rx();
  ASSERT_TRUE(h.device.pause());
  EXPECT_EQ(h.device.enqueue_input(bytes_of("typed while paused")), 18u);
  h.device.set_size(100, 40);
  h.write(kData + 4096, "out");
  h.tx.add({{kData + 4096, 3}});
  h.kick_tx();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(h.rx.used_idx(), 0);
  EXPECT_EQ(h.tx.used_idx(), 0);
  EXPECT_EQ(h.output.size(), 0u);
  EXPECT_EQ(h.interrupt.config, 1);
  EXPECT_EQ(h.interrupt.used, 0);
  h.device.resume();
  EXPECT_EQ(h.interrupt.config, 2);  // the size change, announced now
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1 && h.tx.used_idx() == 1; }));
  EXPECT_EQ(h.rx.used(0).len, 18u);
  EXPECT_EQ(text_of(h.read(kData, 18)), "typed while paused");
  ASSERT_TRUE(eventually([&] { return h.output.size() == 3; }));
  EXPECT_EQ(text_of(h.output.bytes()), "out");
}

TEST(VirtioConsolePause, PausesBetweenChainsOfABusyTransmitQueue) {
  // A driver keeping the transmit queue full: pause returns with every popped chain returned.
  ConsoleHarness h;
  ASSERT_TRUE(h.activate());
  h.write(kData, std::string(4096, 'x'));
  for (int i = 0; i < 15; ++i) h.tx.add({{kData, 4096}});
  h.kick_tx();
  ASSERT_TRUE(h.device.pause());
  const SplitQueue* q = h.device.active_queue(ConsoleDevice::kTransmitQueue);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->in_flight(), 0);
  EXPECT_EQ(q->next_used(), h.tx.used_idx());
  h.device.resume();
  ASSERT_TRUE(eventually([&] { return h.tx.used_idx() == 15; }));
}

}  // namespace
}  // namespace kiln::virtio::test
