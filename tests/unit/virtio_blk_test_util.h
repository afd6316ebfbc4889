// Test doubles for the virtio-blk unit tests: a temporary image file, guest RAM with a driver-side
// queue that writes chains by hand (both shared with the console tests, virtio_test_queue.h),
// and two harnesses: the whole device on its own thread, or its RequestProcessor driven on the
// test's thread (deterministic: the test decides when requests start and complete).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/event_fd.h"
#include "memory/guest_memory.h"
#include "virtio/blk/block_device.h"
#include "virtio/blk/request_processor.h"
#include "virtio/queue/split_queue.h"
#include "virtio/spec.h"
#include "virtio_test_queue.h"

namespace kiln::virtio::blk::test {

inline constexpr uint64_t kRamSize = 8 * MiB;
inline constexpr uint64_t kQueueBase = 64 * KiB;    // the request queue (256 entries, 4 KiB aligned)
inline constexpr uint64_t kHeaders = 128 * KiB;     // slot i: header at +32*i, status byte at +32*i+16
inline constexpr uint64_t kTables = 256 * KiB;      // slot i: indirect table at +1 KiB*i
inline constexpr uint64_t kData = 1 * MiB;          // data buffers
inline constexpr uint8_t kUnwritten = 0xee;         // status bytes before the device answers

// Byte `i` of a fresh test image.
inline uint8_t pattern(uint64_t i) { return static_cast<uint8_t>(i * 7 + (i >> 9) * 13 + 1); }

// Polls `pred` until it holds or 20 seconds pass (the device works on its own thread).
inline bool eventually(const std::function<bool()>& pred) {
  return virtio::test::eventually_within(pred, std::chrono::seconds(20));
}

// A temporary image of `size` bytes filled with pattern(), removed at the end of the test.
class TempImage {
 public:
  explicit TempImage(uint64_t size) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/kiln-blk-test-XXXXXX";
    const int fd = ::mkstemp(path_.data());
    EXPECT_GE(fd, 0);
    std::vector<uint8_t> bytes(size);
    for (uint64_t i = 0; i < size; ++i) bytes[i] = pattern(i);
    EXPECT_EQ(::pwrite(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(size));
    ::close(fd);
  }
  TempImage(const TempImage&) = delete;
  TempImage& operator=(const TempImage&) = delete;
  ~TempImage() { ::unlink(path_.c_str()); }

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::vector<uint8_t> read(uint64_t offset, size_t len) const {
    std::vector<uint8_t> out(len);
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(::pread(fd, out.data(), len, static_cast<off_t>(offset)), static_cast<ssize_t>(len));
    ::close(fd);
    return out;
  }
  [[nodiscard]] BlockOptions options(bool readonly = false, std::string serial = "") const {
    return BlockOptions{path_, readonly, std::move(serial), false};
  }

 private:
  std::string path_;
};

inline GuestMemory make_ram() { return virtio::test::make_guest_ram(kRamSize); }
using virtio::test::Buf;
using virtio::test::DriverQueue;
using virtio::test::RecordingInterrupt;

// Guest RAM plus a driver queue, and helpers to write requests into it.
struct Guest {
  GuestMemory mem = make_ram();
  DriverQueue queue{mem, kQueueBase, BlockDevice::kQueueSize};

  // Header (type, sector) and an unwritten status byte in `slot`; returns the chain
  // [header, data..., status] ready for DriverQueue::add.
  std::vector<Buf> request(uint32_t slot, uint32_t type, uint64_t sector, const std::vector<Buf>& data) {
    const uint64_t header = kHeaders + 32 * uint64_t{slot};
    EXPECT_TRUE(mem.write_obj(GuestAddress(header), RequestHeader{type, 0, sector}));
    EXPECT_TRUE(mem.write_obj(GuestAddress(header + 16), kUnwritten));
    std::vector<Buf> chain{{header, 16}};
    chain.insert(chain.end(), data.begin(), data.end());
    chain.push_back({header + 16, 1, true});
    return chain;
  }
  // Submits a request with one data buffer at kData + 64 KiB * slot (writable for reads and
  // GET_ID); returns the head.
  uint16_t submit(uint32_t slot, uint32_t type, uint64_t sector, uint32_t len, bool indirect = false) {
    const bool writes = type != kTypeOut;
    std::vector<Buf> data;
    if (len > 0) data.push_back({data_addr(slot), len, writes});
    auto chain = request(slot, type, sector, data);
    return indirect ? queue.add(chain, kTables + KiB * slot) : queue.add(chain);
  }
  [[nodiscard]] static uint64_t data_addr(uint32_t slot) { return kData + 64 * KiB * uint64_t{slot}; }
  [[nodiscard]] uint8_t status(uint32_t slot) const { return *mem.read_obj<uint8_t>(GuestAddress(kHeaders + 32 * uint64_t{slot} + 16)); }
  [[nodiscard]] std::vector<uint8_t> read(uint64_t addr, size_t len) const {
    std::vector<uint8_t> out(len);
    EXPECT_TRUE(mem.read(GuestAddress(addr), out));
    return out;
  }
  void write(uint64_t addr, const std::vector<uint8_t>& bytes) { EXPECT_TRUE(mem.write(GuestAddress(addr), bytes)); }
};

// The whole device, activated the way the transport does it at DRIVER_OK.
struct DeviceHarness : Guest {
  explicit DeviceHarness(const BlockOptions& options, IoMode mode = IoMode::kAuto) {
    auto d = BlockDevice::create(options, mode);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
    if (d) device = std::move(*d);
  }
  ~DeviceHarness() {
    if (device) device->reset();
  }
  [[nodiscard]] bool activate() { return activate(device->features()); }
  [[nodiscard]] bool activate(uint64_t features) {
    Activation a;
    a.mem = &mem;
    a.features = features;
    a.interrupt = &interrupt;
    ActiveQueue aq;
    auto q = SplitQueue::create(mem, queue.layout(), features);
    EXPECT_TRUE(q.has_value());
    aq.queue.emplace(std::move(*q));
    aq.notify_fd = notify.fd();
    a.queues.push_back(std::move(aq));
    return device->activate(std::move(a)).has_value();
  }
  void kick() { notify.signal(); }
  [[nodiscard]] bool wait_used(uint16_t n) {
    return eventually([&] { return queue.used_idx() == n; });
  }

  EventFd notify = *EventFd::create();
  RecordingInterrupt interrupt;
  std::shared_ptr<BlockDevice> device;
};

// Names the parametrized tests after the engine.
inline std::string engine_label(const ::testing::TestParamInfo<IoMode>& param) {
  return param.param == IoMode::kSync ? "Sync" : "Auto";
}

// A RequestProcessor served on the test's thread.
struct ProcessorHarness : Guest {
  ProcessorHarness(std::unique_ptr<IoEngine> engine, DiskInfo disk, uint16_t max_in_flight,
                   uint64_t features = feature(kFRingIndirectDesc) | feature(kFFlush)) {
    auto q = SplitQueue::create(mem, queue.layout(), features);
    EXPECT_TRUE(q.has_value());
    split.emplace(std::move(*q));
    ProcessorOptions options;
    options.label = "test";
    options.disk = disk;
    options.serial = "test-serial";
    options.max_in_flight = max_in_flight;
    processor.emplace(mem, *split, interrupt, std::move(engine), std::move(options));
  }

  std::optional<SplitQueue> split;
  RecordingInterrupt interrupt;
  std::optional<RequestProcessor> processor;
};

}  // namespace kiln::virtio::blk::test
