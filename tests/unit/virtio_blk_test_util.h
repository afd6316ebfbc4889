// Test doubles for the virtio-blk unit tests: a temporary image file, guest RAM with a driver-side
// queue that writes chains by hand (direct or through an indirect table), a recording Interrupt,
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
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
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

inline GuestMemory make_ram() {
  const std::array ranges{MemoryRange{GuestAddress(0), kRamSize}};
  auto mem = GuestMemory::create(ranges);
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

struct Buf {
  uint64_t addr;
  uint32_t len;
  bool device_writes = false;
};

// The driver's side of the request queue (legacy layout, 4 KiB alignment).
class DriverQueue {
 public:
  DriverQueue(const GuestMemory& mem, uint64_t base, uint16_t size) : mem_(&mem) {
    layout_ = *legacy_layout(size, base / 4096, 4096, 4096);
  }
  [[nodiscard]] const QueueLayout& layout() const { return layout_; }

  // Writes the chain into the next free descriptors (or into an indirect table at `table`, one
  // ring descriptor pointing to it) and makes it available; returns the head.
  uint16_t add(const std::vector<Buf>& bufs, std::optional<uint64_t> table = std::nullopt) {
    if (table) {
      for (size_t i = 0; i < bufs.size(); ++i) {
        const bool last = i + 1 == bufs.size();
        const Descriptor d{bufs[i].addr, bufs[i].len,
                           static_cast<uint16_t>((bufs[i].device_writes ? kDescFWrite : 0) | (last ? 0 : kDescFNext)),
                           static_cast<uint16_t>(last ? 0 : i + 1)};
        EXPECT_TRUE(mem_->write_obj(GuestAddress(*table + i * sizeof(Descriptor)), d));
      }
      const uint16_t head = take_desc();
      set_desc(head, {*table, static_cast<uint32_t>(bufs.size() * sizeof(Descriptor)), kDescFIndirect, 0});
      publish(head);
      return head;
    }
    const uint16_t head = next_desc_;
    for (size_t i = 0; i < bufs.size(); ++i) {
      const uint16_t index = take_desc();
      const bool last = i + 1 == bufs.size();
      set_desc(index, {bufs[i].addr, bufs[i].len,
                       static_cast<uint16_t>((bufs[i].device_writes ? kDescFWrite : 0) | (last ? 0 : kDescFNext)),
                       last ? uint16_t{0} : next_desc_});
    }
    publish(head);
    return head;
  }
  void set_desc(uint16_t index, const Descriptor& d) {
    EXPECT_TRUE(mem_->write_obj(layout_.desc.unchecked_add(uint64_t{index} * sizeof(Descriptor)), d));
  }
  void publish(uint16_t head) {
    EXPECT_TRUE(mem_->write_obj(layout_.avail.unchecked_add(4 + 2 * static_cast<uint64_t>(avail_idx_ % layout_.size)), head));
    ++avail_idx_;
    // Release, as a driver's write barrier before the index (2.4.1.3): the device sees the
    // descriptors and the ring entry once it sees the new index.
    auto host = mem_->slice(layout_.avail.unchecked_add(2), 2);
    __atomic_store_n(reinterpret_cast<uint16_t*>(host->data()), avail_idx_, __ATOMIC_RELEASE);
  }
  [[nodiscard]] uint16_t used_idx() const {
    auto host = mem_->slice(layout_.used.unchecked_add(2), 2);
    return __atomic_load_n(reinterpret_cast<const uint16_t*>(host->data()), __ATOMIC_ACQUIRE);
  }
  [[nodiscard]] UsedElement used(uint16_t i) const {
    auto e = mem_->read_obj<UsedElement>(layout_.used.unchecked_add(4 + sizeof(UsedElement) * static_cast<uint64_t>(i % layout_.size)));
    return e.value_or(UsedElement{0xffff, 0xffff});
  }
  // The used length the device gave chain `head` (completions come in any order), or ~0u.
  [[nodiscard]] uint32_t used_len_of(uint16_t head) const {
    for (uint16_t i = 0; i < used_idx(); ++i) {
      if (used(i).id == head) return used(i).len;
    }
    return ~0u;
  }

 private:
  uint16_t take_desc() {
    const uint16_t index = next_desc_;
    next_desc_ = static_cast<uint16_t>((next_desc_ + 1) % layout_.size);
    return index;
  }
  const GuestMemory* mem_;
  QueueLayout layout_;
  uint16_t next_desc_ = 0;
  uint16_t avail_idx_ = 0;
};

class RecordingInterrupt final : public Interrupt {
 public:
  void used_buffer() override { ++used; }
  void config_changed() override { ++config; }
  std::atomic<int> used{0};
  std::atomic<int> config{0};
};

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
