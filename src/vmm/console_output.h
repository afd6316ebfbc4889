// Guest console output, one destination (kiln's stdout) shared by several streams: the UART
// (written byte by byte on a vCPU thread) and the virtio console (whole buffers on its device
// thread). Without it the two interleave at byte granularity and a line of one can be cut by the
// other's bytes.
//
// Line discipline: a stream's bytes go out at once (a prompt or an echoed key is never delayed)
// unless ANOTHER stream is in the middle of a line on the destination, i.e. its last byte written
// was not '\n'. Then they wait in the stream's buffer until that line ends, so each line reaches
// the destination whole and every write happens under one lock. The wait is bounded:
//   - the mid-line stream wrote nothing for `idle` (a shell prompt waiting for input), or
//   - the oldest waiting byte has waited `max_hold` (a stream writing without newlines), or
//   - the waiting stream would buffer more than `max_pending` bytes,
// and then the waiting bytes go out after the unfinished line. Memory per stream is therefore at
// most `max_pending`; a guest cannot make kiln buffer more. With a single active stream nothing is
// ever buffered: interactive use behaves as a raw pass-through.
//
// Each stream can only be split by another stream sharing its destination; a stream meant for
// its own file gets its own ConsoleOutput.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "common/result.h"

namespace kiln {

class ConsoleOutput : public std::enable_shared_from_this<ConsoleOutput> {
 public:
  // Writes all of the bytes or drops them (e.g. stdout closed); called under the lock, in order.
  using Sink = std::function<void(std::span<const uint8_t>)>;
  using Writer = std::function<void(std::span<const uint8_t>)>;
  using Clock = std::chrono::steady_clock;

  struct Limits {
    size_t max_pending = 4096;             // bytes a waiting stream may buffer
    std::chrono::milliseconds idle{200};   // a line left unfinished this long no longer holds others back
    std::chrono::milliseconds max_hold{1000};  // longest any byte waits
  };

  // Starts the thread that releases waiting bytes when `idle` or `max_hold` passes.
  [[nodiscard]] static Result<std::shared_ptr<ConsoleOutput>> create(Sink sink, Limits limits);
  [[nodiscard]] static Result<std::shared_ptr<ConsoleOutput>> create(Sink sink) { return create(std::move(sink), {}); }
  ConsoleOutput(const ConsoleOutput&) = delete;
  ConsoleOutput& operator=(const ConsoleOutput&) = delete;
  ~ConsoleOutput();  // writes what is still waiting, then stops the thread

  // A new stream: the returned function writes to it from any thread (one thread at a time per
  // stream, as each device does) and keeps this object alive.
  [[nodiscard]] Writer stream();
  // Writes every waiting byte now (kiln is stopping).
  void flush();
  // Bytes waiting in all streams (tests).
  [[nodiscard]] size_t pending_bytes() const;

 private:
  static constexpr size_t kNone = SIZE_MAX;
  struct Stream {
    std::vector<uint8_t> pending;
    Clock::time_point since;  // when the oldest pending byte arrived
  };

  ConsoleOutput(Sink sink, Limits limits) : sink_(std::move(sink)), limits_(limits) {}
  void write(size_t stream, std::span<const uint8_t> bytes);
  // Writes `bytes` of `stream` to the sink; the stream then owns the line if it left it unfinished.
  void emit_locked(size_t stream, std::span<const uint8_t> bytes, Clock::time_point now);
  // Writes every waiting byte, releasing unfinished lines as needed.
  void flush_locked(Clock::time_point now);
  // Writes what may go out now; `release` first ends the current owner's hold.
  void pump_locked(Clock::time_point now, bool release);
  [[nodiscard]] bool hold_expired_locked(Clock::time_point now) const;
  // When the thread must look again (Clock::time_point::max() when nothing waits).
  [[nodiscard]] Clock::time_point next_deadline_locked() const;
  void run_timer();

  const Sink sink_;
  const Limits limits_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Stream> streams_;
  size_t owner_ = kNone;             // the stream whose line is unfinished on the destination
  Clock::time_point last_write_{};   // the owner's last write
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace kiln
