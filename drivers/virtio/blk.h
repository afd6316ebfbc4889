// virtio-blk requests (virtio 0.9.5, Appendix D "Device Operation"): a device-readable header
// {type, ioprio, sector}, the data (readable for OUT, writable for IN and GET_ID, none for FLUSH)
// and one device-writable status byte at the end.
#pragma once

#include <cstdint>

#include "drivers/virtio/defs.h"
#include "drivers/virtio/split_ring.h"

namespace kiln::driver {

// Header and status of one request, in DMA memory (status 0xff until the device writes it).
class BlkRequest {
 public:
  static constexpr uint32_t kBytes = 32;  // header 16, status at 16, padded
  static constexpr uint8_t kStatusPending = 0xff;

  BlkRequest() = default;
  explicit BlkRequest(const DmaBuffer& b) : phys_(b.phys), host_(b.host) {}

  [[nodiscard]] static Outcome<BlkRequest> allocate(Arena& arena) {
    auto b = arena.allocate(kBytes, 16);
    if (!b) return b.error();
    return BlkRequest(b.value());
  }

  // The maximum number of data segments build() accepts.
  static constexpr uint16_t kMaxData = 62;

  // Writes the header and returns the segments (header, data..., status) into `out` (room for
  // n_data + 2); `readable` / `writable` count the two groups for SplitRing::add.
  [[nodiscard]] bool build(uint32_t type, uint64_t sector, const Segment* data, uint16_t n_data, Segment* out,
                           uint16_t& readable, uint16_t& writable) {
    if (n_data > kMaxData || (n_data != 0 && data == nullptr)) return false;
    const blk::RequestHeader h{type, 0, sector};
    __builtin_memcpy(host_, &h, sizeof(h));
    host_[16] = kStatusPending;
    const bool data_writable = type != blk::kTypeOut;
    out[0] = Segment{phys_, sizeof(h)};
    for (uint16_t i = 0; i < n_data; ++i) out[1 + i] = data[i];
    out[1 + n_data] = Segment{phys_ + 16, 1};
    readable = static_cast<uint16_t>(data_writable ? 1 : 1 + n_data);
    writable = static_cast<uint16_t>(data_writable ? n_data + 1 : 1);
    return true;
  }

  [[nodiscard]] uint8_t status() const { return __atomic_load_n(host_ + 16, __ATOMIC_ACQUIRE); }
  [[nodiscard]] uint64_t phys() const { return phys_; }

 private:
  uint64_t phys_ = 0;
  uint8_t* host_ = nullptr;
};

// Adds one request to `q` and notifies the device if it wants it; returns the head.
template <class QueueT>
[[nodiscard]] Outcome<uint16_t> blk_submit(QueueT& q, BlkRequest& req, uint32_t type, uint64_t sector,
                                           const Segment* data, uint16_t n_data, uint64_t token) {
  Segment segs[BlkRequest::kMaxData + 2];
  uint16_t readable = 0;
  uint16_t writable = 0;
  if (!req.build(type, sector, data, n_data, segs, readable, writable)) return Error::bad_argument;
  auto head = q.add(segs, readable, writable, token);
  if (!head) return head.error();
  q.kick();
  return head;
}

// One request, waited for with `wait(q, completion) -> Poll` (the environment's polling loop with
// its own time limit); returns the status byte. Errors: no_space, bad_argument, bad_used_id (the
// device completed something else), device_failed (no completion in time).
template <class QueueT, class Wait>
[[nodiscard]] Outcome<uint8_t> blk_transfer(QueueT& q, BlkRequest& req, uint32_t type, uint64_t sector,
                                            const Segment* data, uint16_t n_data, Wait wait,
                                            Completion* completion = nullptr) {
  auto head = blk_submit(q, req, type, sector, data, n_data, req.phys());
  if (!head) return head.error();
  Completion c;
  const Poll p = wait(q, c);
  if (p == Poll::empty) return Error::device_failed;
  if (p == Poll::bad_id || c.token != req.phys()) return Error::bad_used_id;
  if (completion != nullptr) *completion = c;
  return req.status();
}

}  // namespace kiln::driver
