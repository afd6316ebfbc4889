// virtio-vsock, the driver side (virtio 1.1, 5.10 "Socket Device"; Linux's
// include/uapi/linux/virtio_vsock.h): the device ID, queues, configuration layout, the 44-byte
// packet header with its types, ops and SHUTDOWN flags, and the event record. Written apart from
// kiln's src/virtio/vsock/vsock_spec.h so that the two cross-check each other. Freestanding.
#pragma once

#include <cstdint>

namespace kiln::driver::vsock {

// 5.10.1 Device ID.
inline constexpr uint32_t kDeviceId = 19;

// 5.10.2 Virtqueues.
inline constexpr uint16_t kRxQueue = 0;
inline constexpr uint16_t kTxQueue = 1;
inline constexpr uint16_t kEventQueue = 2;

// 5.10.4 Device configuration layout: le64 guest_cid.
inline constexpr uint32_t kConfigGuestCid = 0;

// 5.10.4 well-known CIDs: the host is 2; a guest's CID is 3 .. 2^32 - 2.
inline constexpr uint64_t kHostCid = 2;
inline constexpr uint64_t kMinGuestCid = 3;
inline constexpr uint64_t kMaxGuestCid = 0xfffffffeull;

// 5.10.6 struct virtio_vsock_hdr, little-endian.
struct __attribute__((packed)) Header {
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
static_assert(sizeof(Header) == 44);
inline constexpr uint32_t kHeaderBytes = sizeof(Header);

// 5.10.6 type.
inline constexpr uint16_t kTypeStream = 1;
inline constexpr uint16_t kTypeSeqpacket = 2;  // only with VIRTIO_VSOCK_F_SEQPACKET

// 5.10.6 op.
inline constexpr uint16_t kOpInvalid = 0;
inline constexpr uint16_t kOpRequest = 1;
inline constexpr uint16_t kOpResponse = 2;
inline constexpr uint16_t kOpRst = 3;
inline constexpr uint16_t kOpShutdown = 4;
inline constexpr uint16_t kOpRw = 5;
inline constexpr uint16_t kOpCreditUpdate = 6;
inline constexpr uint16_t kOpCreditRequest = 7;

// 5.10.6.4 SHUTDOWN flags.
inline constexpr uint32_t kShutdownRcv = 1;   // the sender will receive no more
inline constexpr uint32_t kShutdownSend = 2;  // the sender will send no more
inline constexpr uint32_t kShutdownBoth = 3;

// Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE: the largest payload a driver sends in one packet.
inline constexpr uint32_t kMaxPayload = 64 * 1024;

// 5.10.6.6 the event queue's struct virtio_vsock_event.
struct Event {
  uint32_t id;
};
inline constexpr uint32_t kEventTransportReset = 0;

[[nodiscard]] constexpr const char* op_name(uint16_t op) {
  switch (op) {
    case kOpInvalid: return "INVALID";
    case kOpRequest: return "REQUEST";
    case kOpResponse: return "RESPONSE";
    case kOpRst: return "RST";
    case kOpShutdown: return "SHUTDOWN";
    case kOpRw: return "RW";
    case kOpCreditUpdate: return "CREDIT_UPDATE";
    case kOpCreditRequest: return "CREDIT_REQUEST";
  }
  return "unknown";
}

}  // namespace kiln::driver::vsock
