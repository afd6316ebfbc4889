#include "virtio/blk/request_processor.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>

#include "common/log.h"

namespace kiln::virtio::blk {
namespace {

std::string_view kind_name(IoKind kind) {
  switch (kind) {
    case IoKind::kRead: return "read";
    case IoKind::kWrite: return "write";
    case IoKind::kFlush: return "flush";
  }
  return "?";
}

// Drops the first `n` bytes of iov[first..] (the part of a short transfer that did move).
void advance(std::vector<iovec>& iov, size_t& first, uint64_t n) {
  while (n > 0 && first < iov.size()) {
    iovec& v = iov[first];
    const uint64_t step = std::min<uint64_t>(n, v.iov_len);
    v.iov_base = static_cast<uint8_t*>(v.iov_base) + step;
    v.iov_len -= step;
    n -= step;
    if (v.iov_len == 0) ++first;
  }
}

}  // namespace

RequestProcessor::RequestProcessor(const GuestMemory& mem, SplitQueue& queue, Interrupt& interrupt,
                                   std::unique_ptr<IoEngine> engine, ProcessorOptions options)
    : mem_(mem),
      queue_(queue),
      interrupt_(interrupt),
      engine_(std::move(engine)),
      options_(std::move(options)),
      errors_(options_.errors != nullptr ? *options_.errors : own_errors_) {
  options_.max_in_flight = std::max<uint16_t>(options_.max_in_flight, 1);
  slots_.resize(options_.max_in_flight);
  for (uint16_t i = options_.max_in_flight; i > 0; --i) free_.push_back(static_cast<uint16_t>(i - 1));
}

void RequestProcessor::service() {
  for (;;) {
    start_available();
    engine_->submit();
    bool reaped = false;
    engine_->reap([&](uint64_t tag, int64_t result) {
      reaped = true;
      on_completion(tag, result);
    });
    engine_->submit();  // the rest of short transfers
    // Slots came free while chains wait: take them now (no notify will come for them).
    if (!(throttled_ && reaped)) break;
  }
  // 2.4.4.2: one decision for everything returned in this pass.
  if (pushed_) {
    pushed_ = false;
    if (queue_.needs_interrupt()) interrupt_.used_buffer(0);  // the one request queue (5.2.2)
  }
}

void RequestProcessor::start_available() {
  throttled_ = false;
  for (;;) {
    queue_.disable_notification();
    for (;;) {
      if (free_.empty()) {
        // Every slot is busy: leave the rest in the ring until completions free some.
        throttled_ = true;
        return;
      }
      auto next = queue_.pop();
      if (!next) {
        // A malformed chain went back unused (or the queue stopped): the driver may be waiting.
        pushed_ = true;
        errors_.report("{}", next.error().message);
        continue;
      }
      if (!*next) break;
      start(**next);
    }
    if (!queue_.enable_notification()) return;
  }
}

void RequestProcessor::start(const DescriptorChain& chain) {
  BlockRequest r = decode_request(mem_, chain, options_.disk);
  if (r.status_byte == nullptr) {
    errors_.report("request at head {} has no status byte: returned unused", chain.head());
    (void)queue_.push_used(chain.head(), 0);
    pushed_ = true;
    return;
  }
  switch (r.op) {
    case RequestOp::kComplete:
      if (!r.problem.empty()) errors_.report("request at head {}: {}", chain.head(), r.problem);
      finish(chain.head(), r.status_byte, r.status, 1);
      return;
    case RequestOp::kGetId: {
      // NUL-padded to kIdBytes; as much of it as the buffer holds.
      std::array<uint8_t, kIdBytes> id{};
      std::memcpy(id.data(), options_.serial.data(), std::min<size_t>(options_.serial.size(), kIdBytes));
      const uint64_t n = std::min<uint64_t>(r.data_len, kIdBytes);
      uint64_t done = 0;
      for (const iovec& v : r.data) {
        const uint64_t step = std::min<uint64_t>(v.iov_len, n - done);
        std::memcpy(v.iov_base, id.data() + done, step);
        done += step;
      }
      finish(chain.head(), r.status_byte, kStatusOk, static_cast<uint32_t>(n + 1));
      return;
    }
    case RequestOp::kRead:
    case RequestOp::kWrite:
    case RequestOp::kFlush: break;
  }
  const uint16_t index = free_.back();
  free_.pop_back();
  Slot& s = slots_[index];
  s.busy = true;
  s.head = chain.head();
  s.status_byte = r.status_byte;
  s.kind = r.op == RequestOp::kRead ? IoKind::kRead : r.op == RequestOp::kWrite ? IoKind::kWrite : IoKind::kFlush;
  s.offset = r.offset;
  s.data_len = s.remaining = r.data_len;
  s.iov = std::move(r.data);
  s.first = 0;
  ++in_flight_;
  peak_in_flight_ = std::max(peak_in_flight_, in_flight_);
  if (!queue_slot(index)) {
    errors_.report("the {} engine refused a request", engine_->name());
    finish(s.head, s.status_byte, kStatusIoErr, 1);
    release(index);
  }
}

bool RequestProcessor::queue_slot(uint16_t index) {
  const Slot& s = slots_[index];
  IoOp op;
  op.kind = s.kind;
  op.offset = s.offset;
  op.iov = std::span<const iovec>(s.iov).subspan(s.first);
  op.dsync = options_.write_through && s.kind == IoKind::kWrite;
  return engine_->queue(op, index);
}

void RequestProcessor::on_completion(uint64_t tag, int64_t result) {
  if (tag >= slots_.size() || !slots_[tag].busy) {
    errors_.report("completion for unknown request {}", tag);
    return;
  }
  const auto index = static_cast<uint16_t>(tag);
  Slot& s = slots_[index];
  uint8_t status = kStatusOk;
  if (result < 0) {
    errors_.report("{}: {} at byte {}: {}", options_.label, kind_name(s.kind), s.offset, std::strerror(static_cast<int>(-result)));
    status = kStatusIoErr;
  } else if (s.kind != IoKind::kFlush) {
    const auto n = static_cast<uint64_t>(result);
    if (n == 0 || n > s.remaining) {
      errors_.report("{}: {} at byte {}: {} of {} bytes moved (image shrunk?)", options_.label, kind_name(s.kind), s.offset, n, s.remaining);
      status = kStatusIoErr;
    } else if (n < s.remaining) {
      // A short transfer that made progress: move the rest.
      s.remaining -= n;
      s.offset += n;
      advance(s.iov, s.first, n);
      if (queue_slot(index)) return;
      status = kStatusIoErr;
    }
  }
  // Used length: bytes the device wrote into the writable part (read data, then the status).
  const uint64_t used = status == kStatusOk && s.kind == IoKind::kRead ? s.data_len + 1 : 1;
  finish(s.head, s.status_byte, status, static_cast<uint32_t>(used));
  release(index);
}

void RequestProcessor::finish(uint16_t head, uint8_t* status_byte, uint8_t status, uint32_t used_len) {
  __atomic_store_n(status_byte, status, __ATOMIC_RELAXED);  // ordered by push_used's release
  (void)queue_.push_used(head, used_len);
  pushed_ = true;
}

void RequestProcessor::release(uint16_t index) {
  Slot& s = slots_[index];
  s.busy = false;
  s.iov.clear();
  free_.push_back(index);
  --in_flight_;
}

Status RequestProcessor::complete_in_flight() {
  while (in_flight_ > 0) {
    engine_->submit();
    KILN_TRY(engine_->wait());
    bool reaped = false;
    engine_->reap([&](uint64_t tag, int64_t result) {
      reaped = true;
      on_completion(tag, result);  // a short transfer queues its rest: the next round submits it
    });
    if (!reaped) return fail("virtio-blk {}: the {} engine reports no completion for {} requests", options_.label,
                             engine_->name(), in_flight_);
  }
  if (pushed_) {
    pushed_ = false;
    if (queue_.needs_interrupt()) interrupt_.used_buffer(0);  // the one request queue (5.2.2)
  }
  return {};
}

void RequestProcessor::quiesce() {
  engine_->drain();
  free_.clear();
  for (uint16_t i = static_cast<uint16_t>(slots_.size()); i > 0; --i) {
    slots_[i - 1] = Slot{};
    free_.push_back(static_cast<uint16_t>(i - 1));
  }
  in_flight_ = 0;
}

void RequestProcessor::switch_file(int fd, DiskInfo disk) {
  // Nothing is in flight (the device paused): no operation still refers to the old file.
  engine_->set_file(fd);
  options_.disk = disk;
}

}  // namespace kiln::virtio::blk
