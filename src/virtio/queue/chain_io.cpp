#include "virtio/queue/chain_io.h"

#include <cstring>

#include "virtio/queue/guest_error.h"

namespace kiln::virtio {

uint64_t SegmentCursor::remaining() const {
  uint64_t n = 0;
  for (size_t i = index_; i < segments_.size(); ++i) n += segments_[i].len;
  return n - offset_;
}

template <typename Fn>
Status SegmentCursor::walk(uint64_t len, Fn&& fn) {
  if (len > remaining()) return fail_guest("chain too short: {} bytes wanted, {} left", len, remaining());
  while (len > 0) {
    const Segment& s = segments_[index_];
    const uint64_t n = std::min<uint64_t>(len, s.len - offset_);
    if (n > 0) {
      fn(KILN_TRY_VALUE(mem_->slice(s.addr.unchecked_add(offset_), n)));  // inside the checked segment
    }
    offset_ += n;
    consumed_ += n;
    len -= n;
    if (offset_ == s.len) {
      ++index_;
      offset_ = 0;
    }
  }
  // Step over empty segments so remaining() and the next take start at real data.
  while (index_ < segments_.size() && segments_[index_].len == 0) ++index_;
  return {};
}

Result<std::vector<iovec>> SegmentCursor::take_iovecs(uint64_t len) {
  std::vector<iovec> iov;
  KILN_TRY(walk(len, [&](std::span<uint8_t> host) { iov.push_back({host.data(), host.size()}); }));
  return iov;
}

Status SegmentCursor::skip(uint64_t len) {
  return walk(len, [](std::span<uint8_t>) {});
}

Status ChainReader::read(std::span<uint8_t> out) {
  size_t done = 0;
  return walk(out.size(), [&](std::span<uint8_t> host) {
    std::memcpy(out.data() + done, host.data(), host.size());
    done += host.size();
  });
}

Status ChainWriter::write(std::span<const uint8_t> in) {
  size_t done = 0;
  return walk(in.size(), [&](std::span<uint8_t> host) {
    std::memcpy(host.data(), in.data() + done, host.size());
    done += host.size();
  });
}

}  // namespace kiln::virtio
