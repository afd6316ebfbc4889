#include "virtio/vsock/packet.h"

#include <cstring>

namespace kiln::virtio::vsock {

Header decode_header(std::span<const uint8_t, kHeaderSize> bytes) {
  WireHeader w;
  std::memcpy(&w, bytes.data(), sizeof(w));  // little-endian on the wire and on x86
  return Header{w.src_cid, w.dst_cid, w.src_port, w.dst_port, w.len, w.type, static_cast<Op>(w.op),
                w.flags,   w.buf_alloc, w.fwd_cnt};
}

std::array<uint8_t, kHeaderSize> encode_header(const Header& h) {
  const WireHeader w{h.src_cid, h.dst_cid, h.src_port, h.dst_port, h.len, h.type, static_cast<uint16_t>(h.op),
                     h.flags,   h.buf_alloc, h.fwd_cnt};
  std::array<uint8_t, kHeaderSize> out{};
  std::memcpy(out.data(), &w, sizeof(w));
  return out;
}

TxCheck check_tx_header(const Header& h, uint64_t guest_cid, uint64_t payload_bytes) {
  if (h.src_cid != guest_cid) return TxCheck::kBadSrcCid;
  if (h.dst_cid != kHostCid) return TxCheck::kBadDstCid;
  if (h.type != kTypeStream) return TxCheck::kBadType;
  if (h.op == Op::kInvalid || static_cast<uint16_t>(h.op) > static_cast<uint16_t>(Op::kCreditRequest)) {
    return TxCheck::kBadOp;
  }
  if (h.len > kMaxPayload || (h.op != Op::kRw && h.len != 0)) return TxCheck::kBadLen;
  if (h.len > payload_bytes) return TxCheck::kShortChain;
  return TxCheck::kOk;
}

std::string_view to_string(TxCheck c) {
  switch (c) {
    case TxCheck::kOk: return "ok";
    case TxCheck::kBadSrcCid: return "source CID is not the guest's";
    case TxCheck::kBadDstCid: return "destination CID is not the host";
    case TxCheck::kBadType: return "type is not STREAM";
    case TxCheck::kBadOp: return "unknown op";
    case TxCheck::kBadLen: return "bad length";
    case TxCheck::kShortChain: return "length beyond the buffer";
  }
  return "?";
}

std::string_view to_string(Op op) {
  switch (op) {
    case Op::kInvalid: return "INVALID";
    case Op::kRequest: return "REQUEST";
    case Op::kResponse: return "RESPONSE";
    case Op::kRst: return "RST";
    case Op::kShutdown: return "SHUTDOWN";
    case Op::kRw: return "RW";
    case Op::kCreditUpdate: return "CREDIT_UPDATE";
    case Op::kCreditRequest: return "CREDIT_REQUEST";
  }
  return "unknown";
}

}  // namespace kiln::virtio::vsock
