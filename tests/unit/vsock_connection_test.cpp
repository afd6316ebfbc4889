// The vsock header codec, the driver-header checks, and the connection state machine with its
// credit accounting (pure logic, no sockets).
#include <gtest/gtest.h>

#include "virtio/vsock/connection.h"
#include "virtio/vsock/packet.h"
#include "vsock_test_util.h"

namespace kiln::virtio::vsock::test {
namespace {

TEST(VsockPacket, HeaderRoundTripAndWireLayout) {
  const Header h{0x0102030405060708, 2, 0x11223344, 0x55667788, 0x99, kTypeStream, Op::kCreditUpdate, 3, 0x40000, 0x1234};
  const auto raw = encode_header(h);
  EXPECT_EQ(decode_header(raw), h);
  // 5.10.6: src_cid at 0, dst_cid at 8, ports at 16 and 20, len 24, type 28, op 30, flags 32,
  // buf_alloc 36, fwd_cnt 40.
  EXPECT_EQ(raw[0], 0x08);
  EXPECT_EQ(raw[7], 0x01);
  EXPECT_EQ(raw[8], 2);
  EXPECT_EQ(raw[16], 0x44);
  EXPECT_EQ(raw[20], 0x88);
  EXPECT_EQ(raw[24], 0x99);
  EXPECT_EQ(raw[28], 1);
  EXPECT_EQ(raw[30], 6);
  EXPECT_EQ(raw[32], 3);
  EXPECT_EQ(raw[38], 0x04);
  EXPECT_EQ(raw[40], 0x34);
}

TEST(VsockPacket, TxChecks) {
  EXPECT_EQ(check_tx_header(guest_header(Op::kRequest, 1, 2), kGuestCid, 0), TxCheck::kOk);
  EXPECT_EQ(check_tx_header(guest_header(Op::kRw, 1, 2, 100), kGuestCid, 100), TxCheck::kOk);
  Header h = guest_header(Op::kRw, 1, 2, 10);
  h.src_cid = 4;
  EXPECT_EQ(check_tx_header(h, kGuestCid, 10), TxCheck::kBadSrcCid);
  h = guest_header(Op::kRw, 1, 2, 10);
  h.dst_cid = 7;
  EXPECT_EQ(check_tx_header(h, kGuestCid, 10), TxCheck::kBadDstCid);
  h.dst_cid = kHostCid;
  h.type = kTypeSeqpacket;
  EXPECT_EQ(check_tx_header(h, kGuestCid, 10), TxCheck::kBadType);
  EXPECT_EQ(check_tx_header(guest_header(Op::kInvalid, 1, 2), kGuestCid, 0), TxCheck::kBadOp);
  EXPECT_EQ(check_tx_header(guest_header(static_cast<Op>(8), 1, 2), kGuestCid, 0), TxCheck::kBadOp);
  EXPECT_EQ(check_tx_header(guest_header(Op::kRequest, 1, 2, 4), kGuestCid, 4), TxCheck::kBadLen);
  EXPECT_EQ(check_tx_header(guest_header(Op::kRw, 1, 2, kMaxPayload + 1), kGuestCid, kMaxPayload + 1), TxCheck::kBadLen);
  EXPECT_EQ(check_tx_header(guest_header(Op::kRw, 1, 2, 100), kGuestCid, 99), TxCheck::kShortChain);
}

TEST(VsockConnection, HostInitiatedHandshake) {
  auto c = Connection::host_initiated({1u << 30, 52}, kGuestCid, 4096);
  EXPECT_EQ(c.state(), Connection::State::kConnecting);
  auto req = c.take_control();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->op, Op::kRequest);
  EXPECT_EQ(req->src_cid, kHostCid);
  EXPECT_EQ(req->dst_cid, kGuestCid);
  EXPECT_EQ(req->src_port, 1u << 30);
  EXPECT_EQ(req->dst_port, 52u);
  EXPECT_EQ(req->buf_alloc, 4096u);
  EXPECT_FALSE(c.take_control());
  EXPECT_FALSE(c.wants_host_data());  // not before RESPONSE
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kResponse, 52, 1u << 30, 0, 0, 8192)), Connection::Event::kConnected);
  EXPECT_EQ(c.state(), Connection::State::kEstablished);
  EXPECT_EQ(c.peer_credit(), 8192u);
  EXPECT_TRUE(c.wants_host_data());
  // A second RESPONSE breaks the protocol: RST.
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kResponse, 52, 1u << 30)), Connection::Event::kProtocol);
  EXPECT_EQ(c.take_control()->op, Op::kRst);
  EXPECT_EQ(c.state(), Connection::State::kDone);
}

TEST(VsockConnection, GuestRefusesHostRequest) {
  auto c = Connection::host_initiated({1u << 30, 52}, kGuestCid, 4096);
  (void)c.take_control();
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRst, 52, 1u << 30)), Connection::Event::kPeerReset);
  EXPECT_EQ(c.state(), Connection::State::kDone);
  EXPECT_FALSE(c.has_control());
}

TEST(VsockConnection, CreditToTheGuest) {
  const Header req = guest_header(Op::kRequest, 1000, 80, 0, 0, 1000, 0);
  auto c = Connection::guest_initiated({80, 1000}, kGuestCid, 4096, req);
  EXPECT_EQ(c.take_control()->op, Op::kResponse);
  EXPECT_EQ(c.peer_credit(), 1000u);
  c.sent_to_guest(600);
  EXPECT_EQ(c.peer_credit(), 400u);
  c.sent_to_guest(400);
  EXPECT_EQ(c.peer_credit(), 0u);
  EXPECT_FALSE(c.wants_host_data());  // the rest waits in the host socket
  c.request_credit();
  EXPECT_EQ(c.take_control()->op, Op::kCreditRequest);
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kCreditUpdate, 1000, 80, 0, 0, 1000, 700)), Connection::Event::kNone);
  EXPECT_EQ(c.peer_credit(), 700u);
  // A guest claiming to have consumed more than it got gets no credit from it.
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kCreditUpdate, 1000, 80, 0, 0, 1000, 5000)), Connection::Event::kNone);
  EXPECT_EQ(c.peer_credit(), 0u);
}

TEST(VsockConnection, CreditFromTheGuestBoundsWhatKilnBuffers) {
  auto c = Connection::guest_initiated({80, 1000}, kGuestCid, 4096, guest_header(Op::kRequest, 1000, 80));
  (void)c.take_control();
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRw, 1000, 80, 3000)), Connection::Event::kData);
  EXPECT_EQ(c.unforwarded(), 3000u);
  c.forwarded_to_host(1000);  // below a quarter of buf_alloc: nothing yet
  EXPECT_FALSE(c.has_control());
  c.forwarded_to_host(24);  // a quarter forwarded: CREDIT_UPDATE
  auto update = c.take_control();
  ASSERT_TRUE(update);
  EXPECT_EQ(update->op, Op::kCreditUpdate);
  EXPECT_EQ(update->fwd_cnt, 1024u);
  EXPECT_EQ(update->buf_alloc, 4096u);
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRw, 1000, 80, 2120)), Connection::Event::kData);  // exactly full
  EXPECT_EQ(c.unforwarded(), 4096u);
  // One byte more than the credit kiln gave: the guest lied.
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRw, 1000, 80, 1)), Connection::Event::kProtocol);
  EXPECT_EQ(c.take_control()->op, Op::kRst);
}

TEST(VsockConnection, CreditRequestIsAnswered) {
  auto c = Connection::guest_initiated({80, 1000}, kGuestCid, 4096, guest_header(Op::kRequest, 1000, 80));
  (void)c.take_control();
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kCreditRequest, 1000, 80)), Connection::Event::kNone);
  auto h = c.take_control();
  ASSERT_TRUE(h);
  EXPECT_EQ(h->op, Op::kCreditUpdate);
}

TEST(VsockConnection, HalfCloseBothWays) {
  auto c = Connection::guest_initiated({80, 1000}, kGuestCid, 4096, guest_header(Op::kRequest, 1000, 80));
  (void)c.take_control();
  // The host program stops sending: SHUTDOWN SEND; the guest may still send.
  c.host_eof();
  auto sd = c.take_control();
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->op, Op::kShutdown);
  EXPECT_EQ(sd->flags, kShutdownSend);
  EXPECT_FALSE(c.wants_host_data());
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRw, 1000, 80, 10)), Connection::Event::kData);
  // The guest stops sending.
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kShutdown, 1000, 80, 0, kShutdownSend)), Connection::Event::kShutdown);
  EXPECT_TRUE(c.guest_done_sending());
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kShutdown, 1000, 80, 0, kShutdownSend)), Connection::Event::kNone);
  // Data after its SHUTDOWN SEND breaks the protocol.
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRw, 1000, 80, 1)), Connection::Event::kProtocol);
}

TEST(VsockConnection, HostGoneWaitsForTheGuestsReset) {
  auto c = Connection::guest_initiated({80, 1000}, kGuestCid, 4096, guest_header(Op::kRequest, 1000, 80));
  (void)c.take_control();
  c.host_gone();
  EXPECT_EQ(c.state(), Connection::State::kClosing);
  auto sd = c.take_control();
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->op, Op::kShutdown);
  EXPECT_EQ(sd->flags, kShutdownBoth);
  // Data still in flight from the guest is dropped quietly; its SHUTDOWN gets RST.
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRw, 1000, 80, 10)), Connection::Event::kNone);
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kShutdown, 1000, 80, 0, kShutdownBoth)), Connection::Event::kClose);
  EXPECT_EQ(c.take_control()->op, Op::kRst);
  EXPECT_EQ(c.state(), Connection::State::kDone);
}

TEST(VsockConnection, RequestOnAnOpenStreamIsReset) {
  auto c = Connection::guest_initiated({80, 1000}, kGuestCid, 4096, guest_header(Op::kRequest, 1000, 80));
  EXPECT_EQ(c.on_guest_packet(guest_header(Op::kRequest, 1000, 80)), Connection::Event::kProtocol);
  // RST replaces the RESPONSE that was still pending.
  EXPECT_EQ(c.take_control()->op, Op::kRst);
  EXPECT_FALSE(c.take_control());
}

}  // namespace
}  // namespace kiln::virtio::vsock::test
