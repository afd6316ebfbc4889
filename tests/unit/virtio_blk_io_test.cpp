// virtio-blk I/O: many requests in flight, throttling at the slot limit, short transfers that
// resume, and host I/O errors (an image shrunk under the device, a write past RLIMIT_FSIZE).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include "virtio_blk_test_util.h"

namespace kiln::virtio::blk::test {
namespace {

constexpr uint64_t kImageBytes = 4 * MiB;

std::vector<uint8_t> image_bytes(uint64_t offset, size_t len) {
  std::vector<uint8_t> out(len);
  for (size_t i = 0; i < len; ++i) out[i] = pattern(offset + i);
  return out;
}

// Calls service() (waiting on the completion eventfd in between) until `pred` holds.
bool drive_until(RequestProcessor& p, const std::function<bool()>& pred) {
  return eventually([&] {
    if (p.completion_fd() >= 0) {
      pollfd fd{p.completion_fd(), POLLIN, 0};
      ::poll(&fd, 1, 10);
    }
    p.service();
    return pred();
  });
}

std::unique_ptr<IoEngine> engine_for(IoMode mode, int fd) {
  if (mode == IoMode::kSync) return make_sync_engine(fd);
  auto uring = make_uring_engine(fd, BlockDevice::kQueueSize);
  return uring ? std::move(*uring) : make_sync_engine(fd);
}

// Moves at most `limit` bytes per operation (or answers `forced` instead), synchronously.
class ChoppyEngine final : public IoEngine {
 public:
  ChoppyEngine(int fd, uint64_t limit, std::optional<int64_t> forced = std::nullopt) : fd_(fd), limit_(limit), forced_(forced) {}
  std::string_view name() const override { return "choppy"; }
  int completion_fd() const override { return -1; }
  bool queue(const IoOp& op, uint64_t tag) override {
    ++ops;
    if (forced_) {
      done_.emplace_back(tag, *forced_);
      return true;
    }
    std::vector<iovec> iov;
    uint64_t left = limit_;
    for (const iovec& v : op.iov) {
      if (left == 0) break;
      iov.push_back({v.iov_base, std::min<size_t>(v.iov_len, left)});
      left -= iov.back().iov_len;
    }
    ssize_t r = 0;
    if (op.kind == IoKind::kRead) r = ::preadv(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(op.offset));
    if (op.kind == IoKind::kWrite) r = ::pwritev(fd_, iov.data(), static_cast<int>(iov.size()), static_cast<off_t>(op.offset));
    done_.emplace_back(tag, r < 0 ? -errno : r);
    return true;
  }
  void submit() override {}
  void reap(const std::function<void(uint64_t, int64_t)>& fn) override {
    while (!done_.empty()) {
      auto batch = std::move(done_);
      done_.clear();
      for (const auto& [tag, result] : batch) fn(tag, result);
    }
  }
  void drain() override { done_.clear(); }
  void set_file(int fd) override { fd_ = fd; }
  int ops = 0;

 private:
  int fd_;
  uint64_t limit_;
  std::optional<int64_t> forced_;
  std::vector<std::pair<uint64_t, int64_t>> done_;
};

class VirtioBlkIo : public ::testing::TestWithParam<IoMode> {};

TEST_P(VirtioBlkIo, ManyRequestsInFlightAtOnce) {
  TempImage image(kImageBytes);
  auto disk = DiskImage::open(image.options());
  ASSERT_TRUE(disk.has_value());
  ProcessorHarness h(engine_for(GetParam(), disk->fd()), DiskInfo{disk->capacity_sectors(), false}, 256);
  // 200 requests through indirect tables (one ring descriptor each): even slots read 8 KiB at
  // sector 16*slot, odd slots write 8 KiB of `slot` there.
  constexpr uint32_t kCount = 200;
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    const uint64_t buf = kData + 8 * KiB * uint64_t{slot};
    const bool write = slot % 2 == 1;
    if (write) h.write(buf, std::vector<uint8_t>(8 * KiB, static_cast<uint8_t>(slot)));
    h.queue.add(h.request(slot, write ? kTypeOut : kTypeIn, 16 * uint64_t{slot}, {{buf, 8 * KiB, !write}}), kTables + KiB * slot);
  }
  h.processor->service();
  // Every request was started before any completion was looked at.
  EXPECT_EQ(h.processor->peak_in_flight(), kCount);
  ASSERT_TRUE(drive_until(*h.processor, [&] { return h.queue.used_idx() == kCount; }));
  EXPECT_EQ(h.processor->in_flight(), 0);
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    ASSERT_EQ(h.status(slot), kStatusOk) << slot;
    const uint64_t offset = 16 * 512 * uint64_t{slot};
    if (slot % 2 == 0) {
      EXPECT_EQ(h.read(kData + 8 * KiB * uint64_t{slot}, 8 * KiB), image_bytes(offset, 8 * KiB)) << slot;
    } else {
      EXPECT_EQ(image.read(offset, 8 * KiB), std::vector<uint8_t>(8 * KiB, static_cast<uint8_t>(slot))) << slot;
    }
  }
  EXPECT_TRUE(eventually([&] { return h.interrupt.used.load() > 0; }));  // raised just after the used entry
}

TEST_P(VirtioBlkIo, ThrottlesAtTheSlotLimitAndCatchesUp) {
  TempImage image(kImageBytes);
  auto disk = DiskImage::open(image.options());
  ASSERT_TRUE(disk.has_value());
  ProcessorHarness h(engine_for(GetParam(), disk->fd()), DiskInfo{disk->capacity_sectors(), false}, 4);
  constexpr uint32_t kCount = 100;
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    h.queue.add(h.request(slot, kTypeIn, slot, {{kData + KiB * uint64_t{slot}, 512, true}}), kTables + KiB * slot);
  }
  ASSERT_TRUE(drive_until(*h.processor, [&] { return h.queue.used_idx() == kCount; }));
  EXPECT_LE(h.processor->peak_in_flight(), 4);
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    ASSERT_EQ(h.status(slot), kStatusOk);
    EXPECT_EQ(h.read(kData + KiB * uint64_t{slot}, 512), image_bytes(512 * uint64_t{slot}, 512));
  }
}

TEST_P(VirtioBlkIo, ManyRequestsOnTheDeviceThread) {
  TempImage image(kImageBytes);
  DeviceHarness h(image.options(), GetParam());
  ASSERT_TRUE(h.activate());
  constexpr uint32_t kCount = 250;
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    h.queue.add(h.request(slot, kTypeIn, 8 * uint64_t{slot}, {{kData + 4 * KiB * uint64_t{slot}, 4096, true}}),
                kTables + KiB * slot);
    if (slot % 50 == 49) h.kick();
  }
  ASSERT_TRUE(h.wait_used(kCount));
  for (uint32_t slot = 0; slot < kCount; ++slot) {
    ASSERT_EQ(h.status(slot), kStatusOk) << slot;
    EXPECT_EQ(h.read(kData + 4 * KiB * uint64_t{slot}, 4096), image_bytes(4096 * uint64_t{slot}, 4096)) << slot;
  }
}

TEST_P(VirtioBlkIo, ImageShrunkUnderTheDeviceGivesIoErr) {
  TempImage image(kImageBytes);
  DeviceHarness h(image.options(), GetParam());
  ASSERT_TRUE(h.activate());
  ASSERT_EQ(::truncate(image.path().c_str(), 64 * KiB), 0);  // capacity still says 4 MiB
  h.submit(0, kTypeIn, 1000, 4096);  // wholly past the new end: the read returns 0 bytes
  const uint16_t straddling = h.submit(1, kTypeIn, 127, 1024);  // straddles it: 512 bytes, then 0
  h.submit(2, kTypeIn, 0, 4096);     // still inside
  h.kick();
  ASSERT_TRUE(h.wait_used(3));
  EXPECT_EQ(h.status(0), kStatusIoErr);
  EXPECT_EQ(h.status(1), kStatusIoErr);
  EXPECT_EQ(h.queue.used_len_of(straddling), 1u);  // only the status counts as written
  EXPECT_EQ(h.status(2), kStatusOk);
}

TEST_P(VirtioBlkIo, HostWriteErrorGivesIoErr) {
  TempImage image(kImageBytes);
  DeviceHarness h(image.options(), GetParam());
  ASSERT_TRUE(h.activate());
  // RLIMIT_FSIZE makes the kernel refuse writes past 64 KiB with EFBIG (SIGXFSZ ignored).
  struct sigaction ignore {};
  struct sigaction old_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit limit = old_limit;
  limit.rlim_cur = 64 * KiB;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  h.write(Guest::data_addr(0), std::vector<uint8_t>(4096, 0x5a));
  h.write(Guest::data_addr(1), std::vector<uint8_t>(4096, 0x5b));
  h.submit(0, kTypeOut, 1000, 4096);  // past the limit: EFBIG
  h.submit(1, kTypeOut, 126, 4096);   // across it: 1 KiB written, then EFBIG
  h.kick();
  const bool done = h.wait_used(2);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ASSERT_EQ(::sigaction(SIGXFSZ, &old_action, nullptr), 0);
  ASSERT_TRUE(done);
  EXPECT_EQ(h.status(0), kStatusIoErr);
  EXPECT_EQ(h.status(1), kStatusIoErr);
  EXPECT_EQ(image.read(1000 * 512, 4096), image_bytes(1000 * 512, 4096));
}

INSTANTIATE_TEST_SUITE_P(Engines, VirtioBlkIo, ::testing::Values(IoMode::kAuto, IoMode::kSync),
                         engine_label);

TEST(VirtioBlkShortTransfers, ResumeUntilDone) {
  TempImage image(kImageBytes);
  auto disk = DiskImage::open(image.options());
  ASSERT_TRUE(disk.has_value());
  auto engine = std::make_unique<ChoppyEngine>(disk->fd(), 700);
  ChoppyEngine* choppy = engine.get();
  ProcessorHarness h(std::move(engine), DiskInfo{disk->capacity_sectors(), false}, 8);
  std::vector<uint8_t> data(4096);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i ^ 0x3c);
  h.write(kData, {data.begin(), data.begin() + 1000});
  h.write(kData + 10 * KiB, {data.begin() + 1000, data.end()});
  h.queue.add(h.request(0, kTypeOut, 20, {{kData, 1000}, {kData + 10 * KiB, 3096}}));
  const uint16_t read = h.queue.add(h.request(1, kTypeIn, 20, {{kData + 20 * KiB, 3000, true}, {kData + 30 * KiB, 1096, true}}));
  h.processor->service();
  ASSERT_EQ(h.queue.used_idx(), 2);
  EXPECT_EQ(h.status(0), kStatusOk);
  EXPECT_EQ(h.status(1), kStatusOk);
  EXPECT_EQ(choppy->ops, 12);  // ceil(4096 / 700) = 6 operations each
  EXPECT_EQ(image.read(20 * 512, 4096), data);
  auto back = h.read(kData + 20 * KiB, 3000);
  const auto rest = h.read(kData + 30 * KiB, 1096);
  back.insert(back.end(), rest.begin(), rest.end());
  EXPECT_EQ(back, data);
  EXPECT_EQ(h.queue.used_len_of(read), 4097u);
}

TEST(VirtioBlkShortTransfers, HostErrorsAndZeroProgressFail) {
  for (int64_t forced : {int64_t{-EIO}, int64_t{-ENOSPC}, int64_t{0}, int64_t{1} << 40}) {
    ProcessorHarness h(std::make_unique<ChoppyEngine>(-1, 0, forced), DiskInfo{1024, false}, 8);
    h.submit(0, kTypeIn, 0, 512);
    h.submit(1, kTypeOut, 0, 512);
    h.processor->service();
    ASSERT_EQ(h.queue.used_idx(), 2) << forced;
    EXPECT_EQ(h.status(0), kStatusIoErr) << forced;
    EXPECT_EQ(h.status(1), kStatusIoErr) << forced;
    EXPECT_EQ(h.queue.used(0).len, 1u);
  }
}

}  // namespace
}  // namespace kiln::virtio::blk::test
