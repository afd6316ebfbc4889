// One vsock stream between a guest port and a host unix socket, as pure logic: the connection
// state machine (virtio 1.1, 5.10.6.4 "Stream Sockets") and the credit accounting of both
// directions (5.10.6.3 "Flow Control"). No file descriptors here; the muxer does the I/O and asks
// this object what to send and what the guest may do.
//
// Credit, guest to host: kiln advertises buf_alloc and fwd_cnt (bytes it has passed to the host
// socket). An honest guest never has more than buf_alloc bytes unforwarded, so kiln buffers at most
// buf_alloc per connection; a guest that sends beyond that lied about credit and is reset.
// Credit, host to guest: kiln reads from the host socket only what the guest's last buf_alloc and
// fwd_cnt allow (peer_credit()); the rest waits in the host socket, not in kiln.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>

#include "virtio/vsock/packet.h"

namespace kiln::virtio::vsock {

struct ConnKey {
  uint32_t local_port = 0;  // the host side's port
  uint32_t peer_port = 0;   // the guest's port
  auto operator<=>(const ConnKey&) const = default;
};

class Connection {
 public:
  enum class State {
    kConnecting,   // host-initiated: REQUEST sent (or pending), waiting for RESPONSE
    kEstablished,  // data flows (subject to the shutdown flags)
    kClosing,      // the host side is gone and SHUTDOWN both was sent: waiting for the guest's RST
    kDone,         // forget it (after a pending RST, if any, went out)
  };

  // What a guest packet means for the muxer.
  enum class Event {
    kNone,        // credit updated, nothing else
    kData,        // RW with len > 0 within credit: forward the payload to the host
    kConnected,   // RESPONSE to our REQUEST: tell the host program "OK"
    kShutdown,    // the guest's shutdown flags grew (guest_shutdown())
    kPeerReset,   // RST from the guest: close the host socket, no reply
    kClose,       // the stream is over: RST pending for the guest, close the host socket
    kProtocol,    // the guest broke the protocol (or lied about credit): likewise, and count it
  };

  Connection(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc) : key_(key), guest_cid_(guest_cid), buf_alloc_(buf_alloc) {}

  // The host program asked for a stream to the guest's port: REQUEST is pending.
  static Connection host_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc);
  // The guest's REQUEST found a listening host socket: RESPONSE is pending.
  static Connection guest_initiated(ConnKey key, uint64_t guest_cid, uint32_t buf_alloc, const Header& request);

  // A guest packet for this connection (already through check_tx_header).
  [[nodiscard]] Event on_guest_packet(const Header& h);

  // Host side.
  void host_eof();             // the host program shut down its writing side: SHUTDOWN SEND
  void host_gone();            // the host socket died: SHUTDOWN both, then wait for the guest's RST
  void reset();                // tell the guest RST and end (host error, kiln limit)
  void peer_reset();           // the guest reset it: end without a reply
  void forwarded_to_host(uint32_t n);
  void sent_to_guest(uint32_t n) { rx_cnt_ += n; }
  void request_credit() { pending_ |= kCreditRequest; }

  // Bytes kiln may send the guest now (its buf_alloc minus what it has not consumed yet).
  [[nodiscard]] uint32_t peer_credit() const;
  // Whether kiln should read the host socket (established, host not at EOF, guest still
  // receiving, credit left). The muxer also needs a free rx buffer.
  [[nodiscard]] bool wants_host_data() const;
  // Guest bytes received and not yet passed to the host socket (what kiln buffers).
  [[nodiscard]] uint32_t unforwarded() const { return static_cast<uint32_t>(rx_from_guest_ - fwd_cnt_); }
  // Guest said SEND: once everything is forwarded, shut down the host socket's writing side.
  [[nodiscard]] bool guest_done_sending() const { return (guest_shutdown_ & kShutdownSend) != 0; }

  // Control packets waiting to go to the guest, most urgent first; nullopt when none. Taking a
  // packet marks it sent (and records the fwd_cnt the guest has now seen).
  [[nodiscard]] bool has_control() const { return pending_ != 0; }
  [[nodiscard]] std::optional<Header> take_control();
  // The header of an RW packet carrying `len` bytes (the caller then calls sent_to_guest(len)).
  [[nodiscard]] Header data_header(uint32_t len);

  [[nodiscard]] ConnKey key() const { return key_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] uint32_t guest_shutdown() const { return guest_shutdown_; }
  [[nodiscard]] uint32_t buf_alloc() const { return buf_alloc_; }
  [[nodiscard]] uint32_t fwd_cnt() const { return fwd_cnt_; }

 private:
  enum PendingBit : uint8_t {
    kRst = 1,
    kRequest = 2,
    kResponse = 4,
    kShutdown = 8,
    kCreditUpdate = 16,
    kCreditRequest = 32,
  };
  [[nodiscard]] Header header(Op op, uint32_t len, uint32_t flags);
  // Forwarded bytes the guest has not been told of that call for a CREDIT_UPDATE.
  void maybe_update_credit();

  ConnKey key_;
  uint64_t guest_cid_;
  uint32_t buf_alloc_;
  State state_ = State::kEstablished;
  uint8_t pending_ = 0;
  uint32_t shutdown_to_send_ = 0;  // flags of the pending SHUTDOWN
  uint32_t host_shutdown_ = 0;     // flags kiln has announced
  uint32_t guest_shutdown_ = 0;    // flags the guest has announced
  // Guest to host.
  uint32_t rx_from_guest_ = 0;   // payload bytes received from the guest
  uint32_t fwd_cnt_ = 0;         // of them, passed to the host socket
  uint32_t fwd_cnt_told_ = 0;    // the fwd_cnt in the last packet sent to the guest
  // Host to guest.
  uint32_t rx_cnt_ = 0;          // payload bytes sent to the guest
  uint32_t peer_buf_alloc_ = 0;  // the guest's last buf_alloc and fwd_cnt
  uint32_t peer_fwd_cnt_ = 0;
};

}  // namespace kiln::virtio::vsock
