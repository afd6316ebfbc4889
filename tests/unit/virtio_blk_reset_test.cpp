// virtio-blk reset while the kernel still holds requests (virtio 0.9.5, 2.2.1: writing 0 to the
// status resets the device): reset returns only once no I/O can touch guest memory, answers
// nothing more, and the device serves a new driver afterwards.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "virtio_blk_test_util.h"

namespace kiln::virtio::blk::test {
namespace {

constexpr uint64_t kImageBytes = 4 * MiB;

class VirtioBlkReset : public ::testing::TestWithParam<IoMode> {};

TEST_P(VirtioBlkReset, ResetWithRequestsInFlightThenServeAgain) {
  TempImage image(kImageBytes);
  DeviceHarness h(image.options(), GetParam());
  ASSERT_TRUE(h.activate());
  constexpr uint32_t kCount = 100;
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    h.queue.add(h.request(slot, kTypeIn, 64 * uint64_t{slot}, {{kData + 32 * KiB * uint64_t{slot}, 32 * KiB, true}}),
                kTables + KiB * slot);
  }
  h.kick();
  h.device->reset();  // returns only when the kernel is done with guest memory
  const uint16_t used = h.queue.used_idx();
  EXPECT_LE(used, kCount);
  for (uint16_t i = 0; i < used; ++i) {
    const UsedElement e = h.queue.used(i);
    ASSERT_LT(e.id, BlockDevice::kQueueSize);
  }
  // Whatever completed before the reset completed properly; the rest were never answered.
  uint32_t answered = 0;
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    const uint8_t s = h.status(slot);
    ASSERT_TRUE(s == kStatusOk || s == kUnwritten) << slot;
    if (s == kStatusOk) ++answered;
  }
  EXPECT_EQ(answered, used);
  // A fresh driver queue works as before.
  ASSERT_TRUE(h.mem.fill(GuestAddress(kQueueBase), 16 * KiB, 0));
  h.queue = DriverQueue(h.mem, kQueueBase, BlockDevice::kQueueSize);
  ASSERT_TRUE(h.activate());
  h.submit(0, kTypeIn, 3, 512);
  h.kick();
  ASSERT_TRUE(h.wait_used(1));
  EXPECT_EQ(h.status(0), kStatusOk);
}

INSTANTIATE_TEST_SUITE_P(Engines, VirtioBlkReset, ::testing::Values(IoMode::kAuto, IoMode::kSync), engine_label);

// A pipe never has data until the test writes some: a read of it stays in flight in io_uring.
struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int fds[2] = {-1, -1};
};

TEST(VirtioBlkResetInKernel, QuiesceWaitsForTheKernelAndAnswersNothing) {
  Pipe pipe;
  auto engine = make_uring_engine(pipe.fds[0], BlockDevice::kQueueSize);
  if (!engine) GTEST_SKIP() << "no io_uring: " << engine.error().message;
  ProcessorHarness h(std::move(*engine), DiskInfo{1024, false}, 8);
  h.write(Guest::data_addr(0), std::vector<uint8_t>(512, 0));
  h.submit(0, kTypeIn, 0, 512);
  h.processor->service();
  ASSERT_EQ(h.processor->in_flight(), 1);
  std::atomic<bool> returned{false};
  std::thread reset([&] {
    h.processor->quiesce();
    returned = true;
  });
  EXPECT_FALSE(returned.load());  // (cannot return before the read has data)
  const std::vector<uint8_t> bytes(512, 0x77);
  ASSERT_EQ(::write(pipe.fds[1], bytes.data(), bytes.size()), 512);
  reset.join();
  // The kernel finished its copy into guest memory before quiesce() returned; the request was
  // not answered (a reset device does not touch the rings).
  EXPECT_EQ(h.read(Guest::data_addr(0), 512), bytes);
  EXPECT_EQ(h.queue.used_idx(), 0);
  EXPECT_EQ(h.status(0), kUnwritten);
  EXPECT_EQ(h.processor->in_flight(), 0);
}

TEST(VirtioBlkResetInKernel, EngineDrainWaitsForAReadStuckInTheKernel) {
  // The same through the engine alone: drain() returns only once the read has landed.
  Pipe pipe;
  auto engine = make_uring_engine(pipe.fds[0], 8);
  if (!engine) GTEST_SKIP() << "no io_uring: " << engine.error().message;
  std::vector<uint8_t> buffer(64, 0);
  const iovec iov{buffer.data(), buffer.size()};
  ASSERT_TRUE((*engine)->queue(IoOp{IoKind::kRead, 0, std::span(&iov, 1), false}, 42));
  (*engine)->submit();
  std::thread drain([&] { (*engine)->drain(); });
  const std::vector<uint8_t> bytes(64, 0x42);
  ASSERT_EQ(::write(pipe.fds[1], bytes.data(), bytes.size()), 64);
  drain.join();
  EXPECT_EQ(buffer, bytes);
  int reaped = 0;
  (*engine)->reap([&](uint64_t, int64_t) { ++reaped; });
  EXPECT_EQ(reaped, 0);  // drained results are dropped
}

}  // namespace
}  // namespace kiln::virtio::blk::test
