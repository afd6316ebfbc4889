// IoEngine on plain system calls, run on the device thread inside queue(): one request at a time,
// for hosts where io_uring cannot be set up.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <utility>
#include <vector>

#include "virtio/blk/io_engine.h"

namespace kiln::virtio::blk {
namespace {

int64_t run(int fd, const IoOp& op) {
  if (op.iov.size() > IOV_MAX) return -EINVAL;
  const int n = static_cast<int>(op.iov.size());
  const auto offset = static_cast<off_t>(op.offset);
  for (;;) {
    ssize_t r = 0;
    switch (op.kind) {
      case IoKind::kRead: r = ::preadv(fd, op.iov.data(), n, offset); break;
      case IoKind::kWrite: r = ::pwritev2(fd, op.iov.data(), n, offset, op.dsync ? RWF_DSYNC : 0); break;
      case IoKind::kFlush: r = ::fdatasync(fd); break;
    }
    if (r >= 0) return r;
    if (errno != EINTR) return -errno;
  }
}

class SyncEngine final : public IoEngine {
 public:
  explicit SyncEngine(int fd) : fd_(fd) {}

  [[nodiscard]] std::string_view name() const override { return "synchronous"; }
  [[nodiscard]] int completion_fd() const override { return -1; }
  void set_file(int fd) override { fd_ = fd; }

  bool queue(const IoOp& op, uint64_t tag) override {
    done_.emplace_back(tag, run(fd_, op));
    return true;
  }
  void submit() override {}
  void reap(const std::function<void(uint64_t, int64_t)>& fn) override {
    // fn may queue more (the rest of a short transfer): those finish at once and are reaped here too.
    while (!done_.empty()) {
      std::vector<std::pair<uint64_t, int64_t>> batch;
      batch.swap(done_);
      for (const auto& [tag, result] : batch) fn(tag, result);
    }
  }
  void drain() override { done_.clear(); }  // nothing is ever in flight

 private:
  int fd_;
  std::vector<std::pair<uint64_t, int64_t>> done_;
};

}  // namespace

std::unique_ptr<IoEngine> make_sync_engine(int fd) { return std::make_unique<SyncEngine>(fd); }

}  // namespace kiln::virtio::blk
