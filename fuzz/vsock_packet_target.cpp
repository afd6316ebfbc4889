#include <array>
#include <cstring>

#include "targets.h"
#include "virtio/vsock/connection.h"
#include "virtio/vsock/packet.h"

namespace kiln::fuzz {
namespace {

using virtio::vsock::Connection;
using virtio::vsock::Header;
using virtio::vsock::Op;
namespace vs = virtio::vsock;

constexpr uint64_t kGuestCid = 3;
constexpr uint32_t kBufAlloc = 64 * 1024;

void check_control(const Connection& c, const Header& h) {
  check(h.src_cid == vs::kHostCid && h.dst_cid == kGuestCid, "a control packet names the host and the guest");
  check(h.src_port == c.key().local_port && h.dst_port == c.key().peer_port, "a control packet names its stream");
  check(h.len == 0 && h.type == vs::kTypeStream, "a control packet carries no payload");
  check(h.op == Op::kRequest || h.op == Op::kResponse || h.op == Op::kRst || h.op == Op::kShutdown ||
            h.op == Op::kCreditUpdate || h.op == Op::kCreditRequest,
        "a control packet has a known op");
  check(h.buf_alloc == kBufAlloc && h.fwd_cnt == c.fwd_cnt(), "a control packet tells kiln's credit");
}

}  // namespace

int vsock_packet(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Connection::State start = (data[0] & 1) != 0 ? Connection::State::kConnecting : Connection::State::kEstablished;
  const vs::ConnKey key{1u << 30, 1024};
  Connection c = start == Connection::State::kConnecting
                     ? Connection::host_initiated(key, kGuestCid, kBufAlloc)
                     : Connection::guest_initiated(key, kGuestCid, kBufAlloc,
                                                   Header{kGuestCid, vs::kHostCid, 1024, 1u << 30, 0, vs::kTypeStream,
                                                          Op::kRequest, 0, kBufAlloc, 0});
  uint32_t peer_alloc = start == Connection::State::kConnecting ? 0 : kBufAlloc;
  size_t at = 1;
  while (at < size) {
    const uint8_t sel = data[at++];
    switch (sel % 8) {
      case 0: case 1: case 2: case 3: {
        if (size - at < vs::kHeaderSize) return 0;
        std::array<uint8_t, vs::kHeaderSize> raw{};
        std::memcpy(raw.data(), data + at, raw.size());
        at += raw.size();
        Header h = vs::decode_header(raw);
        check(vs::encode_header(h) == raw, "encode(decode(bytes)) gives the bytes back");
        // Aim most packets at the stream, as a guest would.
        if ((sel & 0x80) == 0) {
          h.src_cid = kGuestCid;
          h.dst_cid = vs::kHostCid;
          h.src_port = key.peer_port;
          h.dst_port = key.local_port;
          h.type = vs::kTypeStream;
        }
        const uint64_t payload = sel % 8 == 3 ? h.len / 2 : h.len;
        if (vs::check_tx_header(h, kGuestCid, payload) != vs::TxCheck::kOk) break;
        check(h.len <= vs::kMaxPayload && h.len <= payload, "a checked header's payload is in the chain");
        const bool was_done = c.state() == Connection::State::kDone;
        const auto event = c.on_guest_packet(h);
        if (!was_done) peer_alloc = h.buf_alloc;
        if (event == Connection::Event::kPeerReset || event == Connection::Event::kClose ||
            event == Connection::Event::kProtocol) {
          check(c.state() == Connection::State::kDone, "a reset stream is over");
        }
        if (event == Connection::Event::kData) check(h.op == Op::kRw && h.len > 0, "data comes from RW");
        break;
      }
      case 4: c.host_eof(); break;
      case 5: c.host_gone(); break;
      case 6: {
        const uint32_t n = std::min<uint32_t>(c.unforwarded(), at < size ? data[at++] * 256u : 0);
        c.forwarded_to_host(n);
        break;
      }
      case 7: {
        const uint32_t n = std::min<uint32_t>(c.peer_credit(), at < size ? data[at++] * 256u : 0);
        if (c.wants_host_data() && n > 0) {
          const Header h = c.data_header(n);
          check(h.op == Op::kRw && h.len == n, "a data header carries its length");
          c.sent_to_guest(n);
        }
        for (int i = 0; i < 8; ++i) {
          const auto h = c.take_control();
          if (!h) break;
          check_control(c, *h);
        }
        break;
      }
    }
    check(c.unforwarded() <= kBufAlloc, "kiln buffers at most buf_alloc guest bytes");
    check(c.peer_credit() <= peer_alloc, "the guest's credit is at most its buf_alloc");
    if (c.wants_host_data()) {
      check(c.state() == Connection::State::kEstablished && c.peer_credit() > 0, "host data only within credit");
    }
    if (c.state() == Connection::State::kDone) {
      // At most an RST is left to send.
      const auto h = c.take_control();
      if (h) check(h->op == Op::kRst, "a finished stream sends nothing but RST");
      check(!c.has_control(), "a finished stream sends one packet at most");
    }
  }
  return 0;
}

}  // namespace kiln::fuzz
