// IoEngine on io_uring (liburing): readv/writev/fsync submitted in batches, completions counted
// on an eventfd the device loop watches (io_uring_register_eventfd).
#include <liburing.h>

#include <vector>

#include "common/event_fd.h"
#include "common/log.h"
#include "virtio/blk/io_engine.h"

namespace kiln::virtio::blk {
namespace {

class UringEngine final : public IoEngine {
 public:
  UringEngine(int fd, unsigned entries, EventFd completions) : fd_(fd), entries_(entries), completions_(std::move(completions)) {}
  UringEngine(const UringEngine&) = delete;
  UringEngine& operator=(const UringEngine&) = delete;
  ~UringEngine() override {
    if (!ready_) return;
    drain();
    // Operations that were queued but never submitted die with the ring: the kernel never saw them.
    ::io_uring_queue_exit(&ring_);
  }

  [[nodiscard]] Status init() {
    if (const int err = ::io_uring_queue_init(entries_, &ring_, 0); err < 0) return fail_io("io_uring_queue_init", -err);
    if (const int err = ::io_uring_register_eventfd(&ring_, completions_.fd()); err < 0) {
      ::io_uring_queue_exit(&ring_);
      return fail_io("io_uring_register_eventfd", -err);
    }
    ready_ = true;
    return {};
  }
  [[nodiscard]] bool ready() const { return ready_; }

  [[nodiscard]] std::string_view name() const override { return "io_uring"; }
  [[nodiscard]] int completion_fd() const override { return completions_.fd(); }
  void set_file(int fd) override { fd_ = fd; }

  bool queue(const IoOp& op, uint64_t tag) override {
    // Completions must never outnumber the CQ: keep everything held below `entries`.
    if (queued_ + in_kernel_ >= entries_) return false;
    io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
    if (sqe == nullptr) return false;
    const auto nr = static_cast<unsigned>(op.iov.size());
    switch (op.kind) {
      case IoKind::kRead: ::io_uring_prep_readv(sqe, fd_, op.iov.data(), nr, op.offset); break;
      case IoKind::kWrite: ::io_uring_prep_writev2(sqe, fd_, op.iov.data(), nr, op.offset, op.dsync ? RWF_DSYNC : 0); break;
      // "Must reach the disk": fdatasync semantics.
      case IoKind::kFlush: ::io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC); break;
    }
    ::io_uring_sqe_set_data64(sqe, tag);
    ++queued_;
    return true;
  }

  void submit() override {
    if (queued_ == 0) return;
    int n = 0;
    do {
      n = ::io_uring_submit(&ring_);
    } while (n == -EINTR);
    if (n < 0) {
      // The operations stay queued; the next submit (next notify or completion) tries again.
      log("virtio-blk: io_uring_submit: {}", std::strerror(-n));
      return;
    }
    const auto done = std::min(static_cast<unsigned>(n), queued_);
    queued_ -= done;
    in_kernel_ += done;
  }

  void reap(const std::function<void(uint64_t, int64_t)>& fn) override {
    // Clear the counter first: a completion posted after this re-arms the loop.
    completions_.consume();
    std::vector<std::pair<uint64_t, int64_t>> done;
    unsigned head = 0;
    unsigned count = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      done.emplace_back(::io_uring_cqe_get_data64(cqe), cqe->res);
      ++count;
    }
    ::io_uring_cq_advance(&ring_, count);
    in_kernel_ -= std::min(count, in_kernel_);
    for (const auto& [tag, result] : done) fn(tag, result);
  }

  Status wait() override {
    submit();
    if (in_kernel_ == 0) {
      if (queued_ > 0) return fail("io_uring: {} operations could not be submitted", queued_);
      return fail("io_uring: no operation in flight to wait for");
    }
    for (;;) {
      io_uring_cqe* cqe = nullptr;  // left in the ring for reap()
      const int err = ::io_uring_wait_cqe(&ring_, &cqe);
      if (err == -EINTR || err == -EAGAIN) continue;
      if (err < 0) return fail_io("io_uring_wait_cqe", -err);
      return {};
    }
  }

  void drain() override {
    if (!ready_) return;
    submit();
    while (in_kernel_ > 0) {
      io_uring_cqe* cqe = nullptr;
      const int err = ::io_uring_wait_cqe(&ring_, &cqe);
      if (err == -EINTR || err == -EAGAIN) continue;
      if (err < 0) {
        // Cannot happen with a live ring; waiting again would spin.
        log("virtio-blk: io_uring_wait_cqe: {}", std::strerror(-err));
        return;
      }
      ::io_uring_cqe_seen(&ring_, cqe);
      --in_kernel_;
    }
  }

 private:
  int fd_;
  unsigned entries_;
  EventFd completions_;
  io_uring ring_{};
  bool ready_ = false;
  unsigned queued_ = 0;     // prepared, not yet submitted
  unsigned in_kernel_ = 0;  // submitted, completion not reaped
};

}  // namespace

Result<std::unique_ptr<IoEngine>> make_uring_engine(int fd, unsigned entries) {
  auto completions = KILN_TRY_VALUE(EventFd::create());
  auto engine = std::make_unique<UringEngine>(fd, entries, std::move(completions));
  KILN_TRY(engine->init());
  return std::unique_ptr<IoEngine>(std::move(engine));
}

}  // namespace kiln::virtio::blk
