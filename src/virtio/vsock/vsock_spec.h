// virtio-vsock constants and wire structures (virtio 1.1, 5.10 "Socket Device"; Linux's
// include/uapi/linux/virtio_vsock.h). Little-endian, as x86 is; kiln runs on x86_64 only.
#pragma once

#include <cstdint>

namespace kiln::virtio::vsock {

// 5.10.1 Device ID.
inline constexpr uint32_t kDeviceId = 19;  // virtio/spec.h kIdVsock

// 5.10.2 Virtqueues.
inline constexpr uint16_t kRxQueue = 0;
inline constexpr uint16_t kTxQueue = 1;
inline constexpr uint16_t kEventQueue = 2;
inline constexpr uint16_t kNumQueues = 3;

// Well-known CIDs (5.10.4): the host is 2; 0, 1 and 0xffffffff are reserved, as is every CID
// above 32 bits.
inline constexpr uint64_t kHostCid = 2;
inline constexpr uint64_t kMinGuestCid = 3;
inline constexpr uint64_t kMaxGuestCid = 0xfffffffeull;

// 5.10.6 Device Operation: struct virtio_vsock_hdr.
#pragma pack(push, 1)
struct WireHeader {
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t len;
  uint16_t type;
  uint16_t op;
  uint32_t flags;
  uint32_t buf_alloc;
  uint32_t fwd_cnt;
};
#pragma pack(pop)
static_assert(sizeof(WireHeader) == 44);
inline constexpr uint32_t kHeaderSize = sizeof(WireHeader);

// 5.10.6 type.
inline constexpr uint16_t kTypeStream = 1;
inline constexpr uint16_t kTypeSeqpacket = 2;  // VIRTIO_VSOCK_F_SEQPACKET; not offered

// 5.10.6 op.
enum class Op : uint16_t {
  kInvalid = 0,
  kRequest = 1,
  kResponse = 2,
  kRst = 3,
  kShutdown = 4,
  kRw = 5,
  kCreditUpdate = 6,
  kCreditRequest = 7,
};

// 5.10.6.4 SHUTDOWN flags.
inline constexpr uint32_t kShutdownRcv = 1;   // the sender receives no more
inline constexpr uint32_t kShutdownSend = 2;  // the sender sends no more
inline constexpr uint32_t kShutdownBoth = kShutdownRcv | kShutdownSend;

// 5.10.6.1 Virtqueue Flow Control: the event queue's struct virtio_vsock_event.
struct WireEvent {
  uint32_t id;
};
inline constexpr uint32_t kEventTransportReset = 0;

// 5.10.4 Device configuration layout.
#pragma pack(push, 1)
struct Config {
  uint64_t guest_cid;
};
#pragma pack(pop)
static_assert(sizeof(Config) == 8);

// Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE: the largest payload a driver sends in one packet, and
// the most kiln accepts.
inline constexpr uint32_t kMaxPayload = 64 * 1024;

}  // namespace kiln::virtio::vsock
