// virtio-net, the driver side (virtio 0.9.5 Appendix C "Network Device"): feature bits, the
// configuration layout, the per-frame header (C.2.1 struct virtio_net_hdr, 10 bytes, or 12 with
// VIRTIO_NET_F_MRG_RXBUF and its num_buffers), the control-queue commands (C.3.2), and helpers
// that post receive buffers, transmit one frame and run one control command. Freestanding.
//
// Layouts: without MRG_RXBUF a buffer is two descriptors, the header and the frame (the legacy
// rule without VIRTIO_F_ANY_LAYOUT: the header in its own descriptor); with MRG_RXBUF a receive
// buffer is one descriptor holding header and frame (what Linux posts).
#pragma once

#include <cstdint>

#include "drivers/virtio/defs.h"
#include "drivers/virtio/split_ring.h"

namespace kiln::driver::net {

// C.1 Feature bits.
inline constexpr unsigned kFeatureCsum = 0;
inline constexpr unsigned kFeatureGuestCsum = 1;
inline constexpr unsigned kFeatureMac = 5;
inline constexpr unsigned kFeatureGso = 6;
inline constexpr unsigned kFeatureGuestTso4 = 7;
inline constexpr unsigned kFeatureGuestTso6 = 8;
inline constexpr unsigned kFeatureGuestEcn = 9;
inline constexpr unsigned kFeatureGuestUfo = 10;
inline constexpr unsigned kFeatureHostTso4 = 11;
inline constexpr unsigned kFeatureHostTso6 = 12;
inline constexpr unsigned kFeatureHostEcn = 13;
inline constexpr unsigned kFeatureHostUfo = 14;
inline constexpr unsigned kFeatureMrgRxbuf = 15;
inline constexpr unsigned kFeatureStatus = 16;
inline constexpr unsigned kFeatureCtrlVq = 17;
inline constexpr unsigned kFeatureCtrlRx = 18;
inline constexpr unsigned kFeatureCtrlVlan = 19;
inline constexpr unsigned kFeatureCtrlRxExtra = 20;
inline constexpr unsigned kFeatureGuestAnnounce = 21;

// Queues: receiveq, transmitq, controlq (C "Virtqueues").
inline constexpr uint16_t kReceiveQueue = 0;
inline constexpr uint16_t kTransmitQueue = 1;
inline constexpr uint16_t kControlQueue = 2;

// C.2 Device configuration layout: mac[6], then status (with VIRTIO_NET_F_STATUS).
inline constexpr uint32_t kConfigMac = 0;
inline constexpr uint32_t kConfigStatus = 6;
inline constexpr uint16_t kStatusLinkUp = 1;
inline constexpr uint16_t kStatusAnnounce = 2;

// C.2.1 the header in front of every frame.
inline constexpr uint8_t kHdrNeedsCsum = 1;
inline constexpr uint8_t kHdrDataValid = 2;  // virtio 1.0 5.1.6.4; legacy devices may set it too
inline constexpr uint8_t kGsoNone = 0;
inline constexpr uint8_t kGsoTcpv4 = 1;
inline constexpr uint8_t kGsoUdp = 3;
inline constexpr uint8_t kGsoTcpv6 = 4;
inline constexpr uint8_t kGsoEcn = 0x80;

struct NetHeader {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
  uint16_t num_buffers;  // only with MRG_RXBUF (then the header is 12 bytes)
};
static_assert(sizeof(NetHeader) == 12);

// The header's size for the accepted features.
[[nodiscard]] constexpr uint32_t header_bytes(uint64_t accepted) {
  return (accepted & bit(kFeatureMrgRxbuf)) != 0 ? 12 : 10;
}

// C.3.2 control commands: a readable {class, command}, readable data, a writable ack byte.
inline constexpr uint8_t kCtrlRx = 0;
inline constexpr uint8_t kCtrlRxPromisc = 0;
inline constexpr uint8_t kCtrlRxAllmulti = 1;
inline constexpr uint8_t kCtrlMac = 1;
inline constexpr uint8_t kCtrlMacTableSet = 0;
inline constexpr uint8_t kCtrlVlan = 2;
inline constexpr uint8_t kCtrlVlanAdd = 0;
inline constexpr uint8_t kCtrlVlanDel = 1;
inline constexpr uint8_t kCtrlAnnounce = 3;
inline constexpr uint8_t kCtrlAnnounceAck = 0;
inline constexpr uint8_t kCtrlOk = 0;
inline constexpr uint8_t kCtrlErr = 1;

// Ethernet: the largest frame without VLAN tag or FCS, and the minimum.
inline constexpr uint32_t kMaxFrame = 1514;
inline constexpr uint32_t kMinFrame = 60;

// Posts one receive buffer of `bytes` (header included) at `buf`: two descriptors (header, rest)
// without MRG_RXBUF, one with it. `token` comes back in the completion.
template <class QueueT>
[[nodiscard]] Outcome<uint16_t> post_receive(QueueT& rx, uint64_t accepted, const DmaBuffer& buf, uint32_t bytes,
                                             uint64_t token) {
  const uint32_t h = header_bytes(accepted);
  if (bytes <= h || bytes > buf.size) return Error::bad_argument;
  if ((accepted & bit(kFeatureMrgRxbuf)) != 0) {
    const Segment seg{buf.phys, bytes};
    return rx.add(&seg, 0, 1, token);
  }
  const Segment segs[2] = {{buf.phys, h}, {buf.phys + h, bytes - h}};
  return rx.add(segs, 0, 2, token);
}

// Queues one frame for transmission: `hdr` (the first header_bytes() bytes are used) and
// `frame_len` bytes of frame, both in `buf` (header at 0, frame right after it), as two
// descriptors. Does not notify.
template <class QueueT>
[[nodiscard]] Outcome<uint16_t> queue_transmit(QueueT& tx, uint64_t accepted, const DmaBuffer& buf, const NetHeader& hdr,
                                               uint32_t frame_len, uint64_t token) {
  const uint32_t h = header_bytes(accepted);
  if (frame_len == 0 || frame_len > buf.size || h > buf.size - frame_len) return Error::bad_argument;
  __builtin_memcpy(buf.host, &hdr, h);
  const Segment segs[2] = {{buf.phys, h}, {buf.phys + h, frame_len}};
  return tx.add(segs, 2, 0, token);
}

// A control command in DMA memory: {class, command} at 0, data at 8 (up to kMaxData bytes), the
// ack at 8 + kMaxData (0xff until the device writes it).
class CtrlCommand {
 public:
  static constexpr uint32_t kMaxData = 240;
  static constexpr uint32_t kBytes = 8 + kMaxData + 8;
  static constexpr uint8_t kAckPending = 0xff;

  CtrlCommand() = default;
  explicit CtrlCommand(const DmaBuffer& b) : phys_(b.phys), host_(b.host) {}

  [[nodiscard]] static Outcome<CtrlCommand> allocate(Arena& arena) {
    auto b = arena.allocate(kBytes, 16);
    if (!b) return b.error();
    return CtrlCommand(b.value());
  }

  // Adds {class, command}, data, ack to `q` and notifies.
  template <class QueueT>
  [[nodiscard]] Outcome<uint16_t> submit(QueueT& q, uint8_t cls, uint8_t cmd, const void* data, uint32_t len) {
    if (len > kMaxData || (len != 0 && data == nullptr)) return Error::bad_argument;
    host_[0] = cls;
    host_[1] = cmd;
    if (len != 0) __builtin_memcpy(host_ + 8, data, len);
    host_[8 + kMaxData] = kAckPending;
    Segment segs[3];
    uint16_t n = 0;
    segs[n++] = Segment{phys_, 2};
    if (len != 0) segs[n++] = Segment{phys_ + 8, len};
    segs[n++] = Segment{phys_ + 8 + kMaxData, 1};
    auto head = q.add(segs, static_cast<uint16_t>(n - 1), 1, phys_);
    if (!head) return head.error();
    q.kick();
    return head;
  }

  [[nodiscard]] uint8_t ack() const { return __atomic_load_n(host_ + 8 + kMaxData, __ATOMIC_ACQUIRE); }
  [[nodiscard]] uint64_t token() const { return phys_; }

 private:
  uint64_t phys_ = 0;
  uint8_t* host_ = nullptr;
};

// One control command, waited for with `wait(q, completion) -> Poll`; returns the ack byte.
template <class QueueT, class Wait>
[[nodiscard]] Outcome<uint8_t> ctrl_command(QueueT& q, CtrlCommand& c, uint8_t cls, uint8_t cmd, const void* data,
                                            uint32_t len, Wait wait) {
  auto head = c.submit(q, cls, cmd, data, len);
  if (!head) return head.error();
  Completion done;
  const Poll p = wait(q, done);
  if (p == Poll::empty) return Error::device_failed;
  if (p == Poll::bad_id || done.token != c.token()) return Error::bad_used_id;
  return c.ack();
}

// RFC 1071 Internet checksum of `len` bytes (folded, complemented), the way the network stack
// fills in a partial checksum from csum_start to the end of the frame (seed 0).
[[nodiscard]] inline uint16_t internet_checksum(const uint8_t* p, uint32_t len) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i + 1 < len; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if ((len & 1) != 0) sum += uint32_t{p[len - 1]} << 8;
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

}  // namespace kiln::driver::net
