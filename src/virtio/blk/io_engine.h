// How virtio-blk moves data between guest RAM and the image: io_uring with many requests in
// flight, or plain preadv/pwritev on the device thread where io_uring is unavailable (old kernel,
// seccomp, io_uring_disabled). Both report through the same queue/submit/reap cycle, so the
// request logic above them does not know which one runs.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "common/result.h"

namespace kiln::virtio::blk {

enum class IoKind { kRead, kWrite, kFlush };

struct IoOp {
  IoKind kind = IoKind::kRead;
  uint64_t offset = 0;           // bytes into the image
  std::span<const iovec> iov;    // host views of guest RAM; valid until the completion is reaped
  bool dsync = false;            // write through to the disk (RWF_DSYNC)
};

class IoEngine {
 public:
  virtual ~IoEngine() = default;

  [[nodiscard]] virtual std::string_view name() const = 0;
  // Queues one operation; `tag` comes back with its completion. False when the engine holds as
  // many operations as it was created for.
  [[nodiscard]] virtual bool queue(const IoOp& op, uint64_t tag) = 0;
  // Hands everything queued to the kernel.
  virtual void submit() = 0;
  // Calls fn(tag, result) for every finished operation: bytes transferred, or -errno. fn may
  // queue new operations (they are reaped by a later call).
  virtual void reap(const std::function<void(uint64_t tag, int64_t result)>& fn) = 0;
  // Blocks until no submitted operation can touch guest memory any more; results are dropped.
  virtual void drain() = 0;
  // Blocks until reap() has at least one completion to report (a device pausing for a snapshot
  // finishes what it started). Engines that complete inside queue() have nothing to wait for.
  [[nodiscard]] virtual Status wait() { return {}; }
  // Readable when completions are waiting (the device loop watches it); -1 when operations
  // complete inside queue() and reap() is all it takes.
  [[nodiscard]] virtual int completion_fd() const = 0;
  // Later operations go to `fd` (another image); only while nothing is submitted.
  virtual void set_file(int fd) = 0;
};

// io_uring with room for `entries` operations in flight, its completions signalled on an eventfd.
[[nodiscard]] Result<std::unique_ptr<IoEngine>> make_uring_engine(int fd, unsigned entries);
// Synchronous system calls, run inside queue().
[[nodiscard]] std::unique_ptr<IoEngine> make_sync_engine(int fd);

}  // namespace kiln::virtio::blk
