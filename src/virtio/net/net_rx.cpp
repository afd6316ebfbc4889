// Receive (Appendix C "Receiving Packets"): the device takes buffers from the receiveq ahead of
// the frames (without MRG_RXBUF one chain per frame; with it, enough chains for the largest frame
// when the guest has posted them) and reads the next frame from the tap straight into them with
// one readv. A frame longer than the buffers taken runs over into `spill_`: with MRG_RXBUF it
// waits there (one frame at most, the tap unwatched) until the guest posts more and is then
// completed; without, it cannot fit any buffer and is dropped. Buffers a frame did not use stay
// taken for the next one; at pause they go back to the ring (SplitQueue::unpop).
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "common/log.h"
#include "virtio/net/net_device.h"
#include "virtio/queue/chain_io.h"

namespace kiln::virtio::net {
namespace {

// Copies between a byte range of a scatter list and a flat buffer.
template <typename Fn>
void walk_iov(std::span<const iovec> iov, uint64_t offset, uint64_t len, Fn&& fn) {
  for (const iovec& v : iov) {
    if (len == 0) return;
    if (offset >= v.iov_len) {
      offset -= v.iov_len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(len, v.iov_len - offset);
    fn(static_cast<uint8_t*>(v.iov_base) + offset, n);
    offset = 0;
    len -= n;
  }
}

}  // namespace

void NetDevice::watch_tap(bool on) {
  if (on == tap_watched_ || !tap_poll_) return;
  // Removed, not masked: epoll reports EPOLLERR/EPOLLHUP (a deleted tap) even with no events.
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (::epoll_ctl(tap_poll_.get(), on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, backend_->fd(), &ev) == 0) tap_watched_ = on;
}

uint64_t NetDevice::guest_capacity() const {
  if (rx_buffers_.empty()) return 0;
  return negotiated(kFMrgRxbuf) ? rx_buffer_bytes_ : rx_buffers_.front().capacity;
}

void NetDevice::rx_iovecs(std::vector<iovec>& out) const {
  out.clear();
  if (negotiated(kFMrgRxbuf)) {
    for (const RxBuffer& b : rx_buffers_) out.insert(out.end(), b.iov.begin(), b.iov.end());
  } else if (!rx_buffers_.empty()) {
    out = rx_buffers_.front().iov;
  }
}

void NetDevice::top_up(SplitQueue& q, uint64_t target) {
  const bool mrg = negotiated(kFMrgRxbuf);
  bool enabled = false;  // notifications asked for, once the ring ran dry
  if ((mrg ? rx_buffer_bytes_ < target : rx_buffers_.empty()) && rx_buffer_iovecs_ < kMaxRxIovecs) {
    q.disable_notification();  // taking buffers: no notify needed until the ring runs dry
  }
  while ((mrg ? rx_buffer_bytes_ < target : rx_buffers_.empty()) && rx_buffer_iovecs_ < kMaxRxIovecs) {
    auto chain = next_chain(q, kRxQueue);
    if (!chain) {
      if (enabled || !q.enable_notification()) break;
      enabled = true;  // chains arrived meanwhile: take them
      continue;
    }
    if (enabled) {
      q.disable_notification();
      enabled = false;
    }
    RxBuffer b;
    b.avail_pos = static_cast<uint16_t>(q.next_avail() - 1);
    b.capacity = chain->writable_bytes();
    SegmentCursor cursor(mem(), chain->writable());
    auto iov = cursor.take_iovecs(b.capacity);
    if (!iov || b.capacity < header_bytes() || rx_buffer_iovecs_ + iov->size() > kMaxRxIovecs) {
      guest_errors().report("receive buffer at head {}: {}", chain->head(),
                            !iov ? iov.error().message
                            : b.capacity < header_bytes()
                                ? fmt::format("{} writable bytes, less than the {}-byte header", b.capacity, header_bytes())
                                : fmt::format("{} segments", iov->size()));
      (void)q.push_used(chain->head(), 0);
      continue;
    }
    b.iov = std::move(*iov);
    b.chain = std::move(*chain);
    rx_buffer_bytes_ += b.capacity;
    rx_buffer_iovecs_ += b.iov.size();
    rx_buffers_.push_back(std::move(b));
  }
}

void NetDevice::receive() {
  SplitQueue* q = queue(kRxQueue);
  if (q == nullptr || rx_stopped_) return watch_tap(false);
  const uint16_t used_before = q->next_used();
  if (pending_len_ && !finish_pending(*q)) {
    if (q->next_used() != used_before) interrupt_if_needed(*q);
    return;
  }
  for (unsigned frames = 0;; ++frames) {
    if (frames == kRxBatch) {
      kick(kRxQueue);
      break;
    }
    top_up(*q, header_bytes() + kMaxFrameBytes);
    if (rx_buffers_.empty()) {
      watch_tap(false);  // the guest's next notify brings us back
      break;
    }
    rx_iovecs(iov_scratch_);
    iov_scratch_.push_back({spill_.data(), spill_.size()});
    auto n = backend_->read(iov_scratch_);
    if (!n) {
      log("virtio-net {}: {}; receive stops until the driver resets the device", backend_->name(), n.error().message);
      rx_stopped_ = true;
      watch_tap(false);
      break;
    }
    if (*n == 0) {
      watch_tap(true);
      break;
    }
    if (!deliver(*q, *n)) break;
  }
  if (q->next_used() != used_before) interrupt_if_needed(*q);
}

bool NetDevice::deliver(SplitQueue& q, size_t frame_len) {
  const uint64_t in_guest = guest_capacity();
  const auto drop = [&] { counters_.rx_drops.fetch_add(1, std::memory_order_relaxed); };
  if (frame_len < header_bytes() || frame_len > in_guest + spill_.size()) {
    drop();  // no header, or truncated (longer than every buffer plus the spill)
    return true;
  }
  // The receive filter looks at the Ethernet header (and a VLAN tag): at most 16 bytes.
  std::array<uint8_t, 16> eth{};
  const uint64_t eth_len = std::min<uint64_t>(eth.size(), frame_len - header_bytes());
  std::vector<iovec>& iov = iov_scratch_;  // still the read's list: buffers, then spill
  uint64_t at = 0;
  walk_iov(iov, header_bytes(), eth_len, [&](const uint8_t* p, uint64_t n) {
    std::memcpy(eth.data() + at, p, n);
    at += n;
  });
  if (!filter_.promisc() && !filter_.accepts(std::span(eth.data(), eth_len), mac())) {
    counters_.rx_filtered.fetch_add(1, std::memory_order_relaxed);
    return true;  // the buffers serve the next frame
  }
  if (frame_len <= in_guest) {
    complete(q, frame_len);
    return true;
  }
  if (!negotiated(kFMrgRxbuf)) {
    drop();  // larger than the buffer: the guest's buffers do not match its offloads or MTU
    return true;
  }
  // Keep it: the guest has not posted enough buffers yet. Stop reading the tap until it has.
  pending_len_ = frame_len;
  pending_in_guest_ = in_guest;
  watch_tap(false);
  return false;
}

bool NetDevice::finish_pending(SplitQueue& q) {
  const size_t len = *pending_len_;
  top_up(q, len);
  if (rx_buffer_bytes_ < len) {
    // Every buffer the ring can hold is taken and still too small: the frame can never fit.
    if (q.in_flight() >= q.size() || rx_buffer_iovecs_ >= kMaxRxIovecs || q.broken()) {
      pending_len_.reset();
      counters_.rx_drops.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    return false;
  }
  rx_iovecs(iov_scratch_);
  uint64_t at = 0;
  walk_iov(iov_scratch_, pending_in_guest_, len - pending_in_guest_, [&](uint8_t* p, uint64_t n) {
    std::memcpy(p, spill_.data() + at, n);
    at += n;
  });
  pending_len_.reset();
  complete(q, len);
  return true;
}

void NetDevice::complete(SplitQueue& q, size_t frame_len) {
  const bool mrg = negotiated(kFMrgRxbuf);
  uint64_t left = frame_len;
  uint16_t used = 0;
  for (const RxBuffer& b : rx_buffers_) {
    ++used;
    if (b.capacity >= left) break;
    left -= b.capacity;
  }
  if (mrg) {
    // num_buffers, right after the 10-byte header in the first buffer (tun leaves it alone).
    const std::array<uint8_t, 2> count{static_cast<uint8_t>(used), static_cast<uint8_t>(used >> 8)};
    uint64_t at = 0;
    walk_iov(rx_buffers_.front().iov, kNumBuffersOffset, 2, [&](uint8_t* p, uint64_t n) {
      std::memcpy(p, count.data() + at, n);
      at += n;
    });
  }
  counters_.rx_frames.fetch_add(1, std::memory_order_relaxed);
  counters_.rx_bytes.fetch_add(frame_len - header_bytes(), std::memory_order_relaxed);
  left = frame_len;
  used_scratch_.clear();
  for (uint16_t i = 0; i < used; ++i) {
    RxBuffer& b = rx_buffers_.front();
    const uint64_t len = std::min<uint64_t>(left, b.capacity);
    used_scratch_.push_back({b.chain.head(), static_cast<uint32_t>(len)});
    left -= len;
    rx_buffer_bytes_ -= b.capacity;
    rx_buffer_iovecs_ -= b.iov.size();
    rx_buffers_.pop_front();
  }
  (void)q.push_used_all(used_scratch_);  // the frame's buffers appear together
}

void NetDevice::release_buffers(SplitQueue& q) {
  bool pushed = false;
  // The newest buffers were popped last: they go back to the ring as if never taken. A buffer
  // behind a malformed chain (returned already) cannot: it is returned empty, which drivers take
  // as a short frame and recycle.
  while (!rx_buffers_.empty() && rx_buffers_.back().avail_pos == static_cast<uint16_t>(q.next_avail() - 1) &&
         q.unpop().has_value()) {
    rx_buffers_.pop_back();
  }
  for (const RxBuffer& b : rx_buffers_) {
    (void)q.push_used(b.chain.head(), 0);
    pushed = true;
  }
  rx_buffers_.clear();
  rx_buffer_bytes_ = 0;
  rx_buffer_iovecs_ = 0;
  if (pushed) interrupt_if_needed(q);
}

}  // namespace kiln::virtio::net
