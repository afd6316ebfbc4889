// The vsock packet header (virtio 1.1, 5.10.6) as kiln handles it: decoded from and encoded to
// the 44 wire bytes, and the checks every driver-sent header goes through before a connection
// sees it.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "virtio/vsock/vsock_spec.h"

namespace kiln::virtio::vsock {

struct Header {
  uint64_t src_cid = 0;
  uint64_t dst_cid = 0;
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint32_t len = 0;
  uint16_t type = kTypeStream;
  Op op = Op::kInvalid;
  uint32_t flags = 0;
  uint32_t buf_alloc = 0;
  uint32_t fwd_cnt = 0;

  bool operator==(const Header&) const = default;
};

[[nodiscard]] Header decode_header(std::span<const uint8_t, kHeaderSize> bytes);
[[nodiscard]] std::array<uint8_t, kHeaderSize> encode_header(const Header& h);

// What a driver-sent (tx queue) header is, before any connection looks at it.
enum class TxCheck {
  kOk,
  kBadSrcCid,   // not the guest's CID: dropped (there is nobody to answer)
  kBadDstCid,   // not the host: nothing there, answered with RST
  kBadType,     // not STREAM: answered with RST (5.10.6.3, unknown type)
  kBadOp,       // INVALID or unknown: answered with RST
  kBadLen,      // payload on a packet other than RW, or above kMaxPayload: answered with RST
  kShortChain,  // fewer payload bytes in the chain than len says: answered with RST
};

// `payload_bytes`: the readable bytes the chain holds after the header.
[[nodiscard]] TxCheck check_tx_header(const Header& h, uint64_t guest_cid, uint64_t payload_bytes);
[[nodiscard]] std::string_view to_string(TxCheck c);
[[nodiscard]] std::string_view to_string(Op op);

}  // namespace kiln::virtio::vsock
