// The request loop of one virtio-blk queue: pops chains, decodes them, completes the ones that
// need no I/O at once and hands the rest to an IoEngine; completions write the status byte and
// return the chain. One interrupt decision per batch. Runs on one thread (the device loop, or a
// test or fuzz target calling service() itself); quiesce() waits for every operation the kernel
// still holds, after which nothing touches guest memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "memory/guest_memory.h"
#include "virtio/blk/io_engine.h"
#include "virtio/blk/request.h"
#include "virtio/device.h"
#include "virtio/queue/split_queue.h"

namespace kiln::virtio::blk {

struct ProcessorOptions {
  std::string label;        // for log lines: "virtio-blk <label>: ..."
  DiskInfo disk;
  std::string serial;       // GET_ID answer, at most kIdBytes
  bool write_through = false;  // VIRTIO_BLK_F_FLUSH not negotiated: every write reaches the disk
  uint16_t max_in_flight = 1;  // at most the engine's capacity
  GuestErrors* errors = nullptr;  // where request errors are counted and logged (the device's)
};

class RequestProcessor {
 public:
  RequestProcessor(const GuestMemory& mem, SplitQueue& queue, Interrupt& interrupt, std::unique_ptr<IoEngine> engine,
                   ProcessorOptions options);
  RequestProcessor(const RequestProcessor&) = delete;
  RequestProcessor& operator=(const RequestProcessor&) = delete;
  ~RequestProcessor() { quiesce(); }

  // Serves what is available and what has completed (after a queue notify or a completion event).
  void service();
  // Waits for every started request to complete and returns it to the driver (used ring, then
  // one interrupt decision), popping nothing new: the device is pausing for a snapshot. An error
  // when the engine cannot finish them (the requests stay in flight).
  [[nodiscard]] Status complete_in_flight();
  // Waits for the kernel to finish every submitted operation and forgets them all, without
  // touching the rings (the device is being reset).
  void quiesce();

  // The disk was replaced (PATCH /drives) while nothing is in flight (after complete_in_flight or
  // quiesce): later requests go to `fd`, checked against the new size.
  void switch_file(int fd, DiskInfo disk);

  [[nodiscard]] int completion_fd() const { return engine_->completion_fd(); }
  [[nodiscard]] std::string_view engine_name() const { return engine_->name(); }
  [[nodiscard]] uint16_t in_flight() const { return in_flight_; }
  // The most requests ever held at once (for tests: how much the device overlapped).
  [[nodiscard]] uint16_t peak_in_flight() const { return peak_in_flight_; }

 private:
  struct Slot {
    uint16_t head = 0;
    uint8_t* status_byte = nullptr;
    IoKind kind = IoKind::kRead;
    uint64_t offset = 0;     // of the next byte to move
    uint64_t data_len = 0;
    uint64_t remaining = 0;  // bytes still to move
    std::vector<iovec> iov;  // iov[first..] is what is left
    size_t first = 0;
    bool busy = false;
  };

  void start_available();
  void start(const DescriptorChain& chain);
  [[nodiscard]] bool queue_slot(uint16_t index);
  void on_completion(uint64_t tag, int64_t result);
  void finish(uint16_t head, uint8_t* status_byte, uint8_t status, uint32_t used_len);
  void release(uint16_t index);

  const GuestMemory& mem_;
  SplitQueue& queue_;
  Interrupt& interrupt_;
  std::unique_ptr<IoEngine> engine_;
  ProcessorOptions options_;
  GuestErrors own_errors_;  // when options_.errors is not given
  GuestErrors& errors_;
  std::vector<Slot> slots_;
  std::vector<uint16_t> free_;  // indices of idle slots
  uint16_t in_flight_ = 0;
  uint16_t peak_in_flight_ = 0;
  bool throttled_ = false;  // stopped popping because every slot was busy
  bool pushed_ = false;     // used entries since the last interrupt decision
};

}  // namespace kiln::virtio::blk
