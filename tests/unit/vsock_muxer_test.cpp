// The vsock muxer over real unix sockets in a scratch directory, with the guest played by the
// test: host-initiated (CONNECT) and guest-initiated (<uds_path>_P) streams, RST when nobody
// listens, credit in both directions, half-close, peer death, many streams at once.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <map>

#include "scratch_dir.h"
#include "vsock_test_util.h"

namespace kiln::virtio::vsock::test {
namespace {

struct MuxerFixture {
  explicit MuxerFixture(uint32_t buf_alloc = 256 * 1024, size_t max_connections = 1024)
      : muxer(make(dir, errors, buf_alloc, max_connections)) {}
  static std::unique_ptr<Muxer> make(const kiln::test::ScratchDir& dir, GuestErrors& errors, uint32_t buf_alloc,
                                     size_t max_connections) {
    MuxerOptions o;
    o.guest_cid = kGuestCid;
    o.uds_path = dir.file("v.sock");
    o.buf_alloc = buf_alloc;
    o.max_connections = max_connections;
    auto m = Muxer::create(o, &errors);
    if (!m) ADD_FAILURE() << m.error().message;
    return m ? std::move(*m) : nullptr;
  }
  // A host program's CONNECT to guest port `port`, through to the guest's RESPONSE. Returns the
  // host socket and the local port from "OK <port>".
  std::pair<UniqueFd, uint32_t> host_connect(uint32_t port, uint32_t guest_buf_alloc = 256 * 1024) {
    UniqueFd fd = connect_unix(muxer->options().uds_path);
    EXPECT_TRUE(fd.valid());
    EXPECT_TRUE(send_all(fd.get(), "CONNECT " + std::to_string(port) + "\n"));
    auto req = guest.wait_packet();
    EXPECT_TRUE(req);
    if (!req) return {};
    EXPECT_EQ(req->h.op, Op::kRequest);
    EXPECT_EQ(req->h.dst_port, port);
    guest.send(guest_header(Op::kResponse, port, req->h.src_port, 0, 0, guest_buf_alloc));
    EXPECT_EQ(recv_line(fd.get()), "OK " + std::to_string(req->h.src_port));
    return {std::move(fd), req->h.src_port};
  }

  kiln::test::ScratchDir dir;
  GuestErrors errors;
  std::unique_ptr<Muxer> muxer;
  MuxerGuest guest{*muxer};
};

TEST(VsockMuxer, HostInitiatedStreamBridgesBothWays) {
  MuxerFixture f;
  auto [fd, local] = f.host_connect(52);
  EXPECT_GE(local, 1u << 30);
  EXPECT_EQ(f.muxer->connection_count(), 1u);
  ASSERT_TRUE(send_all(fd.get(), "ping"));
  auto p = f.guest.wait_packet();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->h.op, Op::kRw);
  EXPECT_EQ(p->h.src_port, local);
  EXPECT_EQ(p->h.dst_port, 52u);
  EXPECT_EQ(p->data, "ping");
  f.guest.send(guest_header(Op::kRw, 52, local, 4), "pong");
  EXPECT_EQ(recv_some(fd.get(), 4), "pong");
  EXPECT_EQ(f.errors.count(), 0u);
}

TEST(VsockMuxer, BytesAfterTheConnectLineWaitForTheStream) {
  MuxerFixture f;
  UniqueFd fd = connect_unix(f.muxer->options().uds_path);
  ASSERT_TRUE(send_all(fd.get(), "CONNECT 7\nearly"));
  auto req = f.guest.wait_packet();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->h.op, Op::kRequest);
  EXPECT_FALSE(f.guest.recv());  // nothing before RESPONSE
  f.guest.send(guest_header(Op::kResponse, 7, req->h.src_port));
  EXPECT_EQ(recv_line(fd.get()), "OK " + std::to_string(req->h.src_port));
  auto p = f.guest.wait_packet();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->data, "early");
}

TEST(VsockMuxer, GuestRefusingTheRequestClosesTheHostSocket) {
  MuxerFixture f;
  UniqueFd fd = connect_unix(f.muxer->options().uds_path);
  ASSERT_TRUE(send_all(fd.get(), "CONNECT 9\n"));
  auto req = f.guest.wait_packet();
  ASSERT_TRUE(req);
  f.guest.send(guest_header(Op::kRst, 9, req->h.src_port));
  EXPECT_TRUE(sees_eof(fd.get()));
  EXPECT_EQ(f.muxer->connection_count(), 0u);
}

TEST(VsockMuxer, BadConnectLineIsClosed) {
  MuxerFixture f;
  UniqueFd fd = connect_unix(f.muxer->options().uds_path);
  ASSERT_TRUE(send_all(fd.get(), "HELLO 9\n"));
  (void)wait_until([&] {
    f.muxer->on_host_events();
    return false;
  }, std::chrono::milliseconds(100));
  EXPECT_TRUE(sees_eof(fd.get()));
  EXPECT_EQ(f.muxer->handshake_count(), 0u);
  UniqueFd endless = connect_unix(f.muxer->options().uds_path);
  ASSERT_TRUE(send_all(endless.get(), std::string(100, '1')));  // no newline, too long
  (void)wait_until([&] {
    f.muxer->on_host_events();
    return false;
  }, std::chrono::milliseconds(100));
  EXPECT_TRUE(sees_eof(endless.get()));
}

TEST(VsockMuxer, GuestInitiatedStreamReachesTheListener) {
  MuxerFixture f;
  UniqueFd listener = listen_unix(f.muxer->options().uds_path + "_5000");
  ASSERT_TRUE(listener.valid());
  f.guest.send(guest_header(Op::kRequest, 1025, 5000));
  auto resp = f.guest.recv();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->h.op, Op::kResponse);
  EXPECT_EQ(resp->h.src_port, 5000u);
  EXPECT_EQ(resp->h.dst_port, 1025u);
  UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(peer.valid());
  f.guest.send(guest_header(Op::kRw, 1025, 5000, 5), "hello");
  EXPECT_EQ(recv_some(peer.get(), 5), "hello");
  ASSERT_TRUE(send_all(peer.get(), "world"));
  auto p = f.guest.wait_packet();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->data, "world");
  EXPECT_EQ(p->h.src_port, 5000u);
}

TEST(VsockMuxer, NoListenerMeansReset) {
  MuxerFixture f;
  f.guest.send(guest_header(Op::kRequest, 1025, 6000));
  auto p = f.guest.recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->h.op, Op::kRst);
  EXPECT_EQ(p->h.src_port, 6000u);
  EXPECT_EQ(p->h.dst_port, 1025u);
  EXPECT_EQ(p->h.dst_cid, kGuestCid);
  EXPECT_EQ(f.muxer->connection_count(), 0u);
  // A packet for a stream that does not exist gets RST too; an RST gets nothing.
  f.guest.send(guest_header(Op::kRw, 1025, 6000, 3), "abc");
  EXPECT_EQ(f.guest.recv()->h.op, Op::kRst);
  f.guest.send(guest_header(Op::kRst, 1025, 6000));
  EXPECT_FALSE(f.guest.recv());
  EXPECT_EQ(f.errors.count(), 0u);  // none of this is a guest mistake
}

TEST(VsockMuxer, HostileHeadersAreCountedAndReset) {
  MuxerFixture f;
  Header h = guest_header(Op::kRequest, 1, 2);
  h.src_cid = 99;  // not the guest: dropped without reply
  f.guest.send(h);
  EXPECT_FALSE(f.guest.recv());
  h = guest_header(Op::kRequest, 1, 2);
  h.dst_cid = 5;  // another VM: nobody there
  f.guest.send(h);
  EXPECT_EQ(f.guest.recv()->h.op, Op::kRst);
  f.guest.send(guest_header(static_cast<Op>(77), 1, 2));
  EXPECT_EQ(f.guest.recv()->h.op, Op::kRst);
  f.guest.send(guest_header(Op::kRw, 1, 2, 100), "short");  // len beyond the buffer
  EXPECT_EQ(f.guest.recv()->h.op, Op::kRst);
  EXPECT_EQ(f.errors.count(), 4u);
}

// The RST that answers a malformed packet for an open stream closes the guest's side (5.10.6.4), so
// kiln closes the host side too: no stream the guest no longer has keeps a host socket, and the
// guest's next REQUEST from that port is a new stream, not a protocol error.
TEST(VsockMuxer, MalformedPacketOnAnOpenStreamEndsIt) {
  Header bad_type = guest_header(Op::kRw, 1025, 5000, 3);
  bad_type.type = kTypeSeqpacket;
  const struct {
    const char* what;
    Header h;
    std::string payload;
    bool rst;  // answered with RST (a malformed RST is not)
  } cases[] = {
      {"len beyond the chain", guest_header(Op::kRw, 1025, 5000, 100), "short", true},
      {"type", bad_type, "abc", true},
      {"op", guest_header(static_cast<Op>(77), 1025, 5000), "", true},
      {"len on a control packet", guest_header(Op::kCreditRequest, 1025, 5000, 4), "abcd", true},
      {"RST with a payload", guest_header(Op::kRst, 1025, 5000, 3), "abc", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    MuxerFixture f;
    UniqueFd listener = listen_unix(f.muxer->options().uds_path + "_5000");
    f.guest.send(guest_header(Op::kRequest, 1025, 5000));
    ASSERT_EQ(f.guest.recv()->h.op, Op::kResponse);
    UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(peer.valid());
    f.guest.send(c.h, c.payload);
    if (c.rst) {
      auto rst = f.guest.recv();
      ASSERT_TRUE(rst);
      EXPECT_EQ(rst->h.op, Op::kRst);
      EXPECT_EQ(rst->h.src_port, 5000u);
      EXPECT_EQ(rst->h.dst_port, 1025u);
    }
    EXPECT_FALSE(f.guest.recv());
    EXPECT_EQ(f.muxer->connection_count(), 0u);
    EXPECT_TRUE(sees_eof(peer.get()));
    EXPECT_EQ(f.errors.count(), 1u);
    f.guest.send(guest_header(Op::kRequest, 1025, 5000));
    EXPECT_EQ(f.guest.recv()->h.op, Op::kResponse);
    EXPECT_EQ(f.errors.count(), 1u);
  }
}

// A packet that is not from the guest's CID, or not for the host, is not the stream's.
TEST(VsockMuxer, PacketForAnotherCidLeavesTheStreamAlone) {
  MuxerFixture f;
  UniqueFd listener = listen_unix(f.muxer->options().uds_path + "_5000");
  f.guest.send(guest_header(Op::kRequest, 1025, 5000));
  ASSERT_EQ(f.guest.recv()->h.op, Op::kResponse);
  UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  Header other_src = guest_header(Op::kRst, 1025, 5000);
  other_src.src_cid = kGuestCid + 1;
  f.guest.send(other_src);
  Header other_dst = guest_header(Op::kRw, 1025, 5000, 3);
  other_dst.dst_cid = kGuestCid + 1;
  f.guest.send(other_dst, "abc");
  EXPECT_EQ(f.guest.recv()->h.op, Op::kRst);  // for the CID the guest addressed
  EXPECT_EQ(f.muxer->connection_count(), 1u);
  f.guest.send(guest_header(Op::kRw, 1025, 5000, 2), "ok");
  EXPECT_EQ(recv_some(peer.get(), 2), "ok");
  EXPECT_EQ(f.errors.count(), 2u);
}

TEST(VsockMuxer, HostDataWaitsForTheGuestsCredit) {
  MuxerFixture f;
  auto [fd, local] = f.host_connect(52, /*guest_buf_alloc=*/1000);
  ASSERT_TRUE(send_all(fd.get(), std::string(5000, 'x')));
  size_t got = 0;
  while (auto p = f.guest.wait_packet(4096, std::chrono::milliseconds(300))) got += p->data.size();
  EXPECT_EQ(got, 1000u);  // the guest's buf_alloc, no more
  EXPECT_EQ(f.muxer->buffered_bytes(), 0u);  // the rest is still in the host socket
  // The guest consumed 600: 600 more may come.
  f.guest.send(guest_header(Op::kCreditUpdate, 52, local, 0, 0, 1000, 600));
  got = 0;
  while (auto p = f.guest.wait_packet(4096, std::chrono::milliseconds(300))) got += p->data.size();
  EXPECT_EQ(got, 600u);
}

TEST(VsockMuxer, GuestThatStopsReadingBlocksTheHostWriterNotKiln) {
  MuxerFixture f;
  auto [fd, local] = f.host_connect(52, 64 * 1024);
  // The host writes until its socket is full.
  const int flags = ::fcntl(fd.get(), F_GETFL);
  ASSERT_EQ(::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK), 0);
  const std::string chunk(65536, 'y');
  size_t written = 0;
  for (int round = 0; round < 200; ++round) {
    f.muxer->on_host_events();
    while (f.guest.recv()) {
    }
    const ssize_t n = ::send(fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n < 0) break;
    written += static_cast<size_t>(n);
  }
  EXPECT_LT(written, 200u * chunk.size());  // the writer blocked
  EXPECT_EQ(f.muxer->buffered_bytes(), 0u);
}

TEST(VsockMuxer, GuestBeyondItsCreditIsResetAndKilnBuffersAtMostBufAlloc) {
  MuxerFixture f(/*buf_alloc=*/64 * 1024);
  UniqueFd listener = listen_unix(f.muxer->options().uds_path + "_5001");
  f.guest.send(guest_header(Op::kRequest, 2000, 5001));
  ASSERT_EQ(f.guest.recv()->h.op, Op::kResponse);
  UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));  // never reads
  const std::string chunk(16 * 1024, 'z');
  bool reset = false;
  size_t max_buffered = 0;
  for (int i = 0; i < 1000 && !reset; ++i) {
    f.guest.send(guest_header(Op::kRw, 2000, 5001, static_cast<uint32_t>(chunk.size())), chunk);
    max_buffered = std::max(max_buffered, f.muxer->buffered_bytes());
    while (auto p = f.guest.recv()) reset = reset || p->h.op == Op::kRst;
  }
  EXPECT_TRUE(reset);
  EXPECT_LE(max_buffered, 64u * 1024);
  EXPECT_EQ(f.muxer->connection_count(), 0u);
  EXPECT_EQ(f.errors.count(), 1u);
}

TEST(VsockMuxer, BufferedGuestBytesReachASlowHost) {
  MuxerFixture f(64 * 1024);
  UniqueFd listener = listen_unix(f.muxer->options().uds_path + "_5002");
  f.guest.send(guest_header(Op::kRequest, 2001, 5002));
  ASSERT_EQ(f.guest.recv()->h.op, Op::kResponse);
  UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  // An honest guest: it sends only within the credit kiln announces.
  std::string sent;
  uint32_t tx_cnt = 0, fwd_cnt = 0, alloc = 64 * 1024;
  size_t received = 0;
  std::string got;
  for (int i = 0; sent.size() < 4 * 1024 * 1024 && i < 100000; ++i) {
    const uint32_t credit = alloc - (tx_cnt - fwd_cnt);
    if (credit > 0) {
      std::string piece(std::min<uint32_t>(credit, 4096), static_cast<char>('a' + i % 26));
      f.guest.send(guest_header(Op::kRw, 2001, 5002, static_cast<uint32_t>(piece.size())), piece);
      sent += piece;
      tx_cnt += static_cast<uint32_t>(piece.size());
    }
    f.muxer->on_host_events();
    while (auto p = f.guest.recv()) {
      ASSERT_NE(p->h.op, Op::kRst);
      fwd_cnt = p->h.fwd_cnt;
      alloc = p->h.buf_alloc;
    }
    char buf[8192];
    const ssize_t n = ::recv(peer.get(), buf, sizeof(buf), MSG_DONTWAIT);  // a slow reader
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    received = got.size();
    ASSERT_LE(f.muxer->buffered_bytes(), 64u * 1024);
  }
  (void)received;
  got += recv_some(peer.get(), sent.size() - got.size(), std::chrono::seconds(10));
  // Whatever was still buffered drains as the peer reads (the loop above served host events).
  while (got.size() < sent.size()) {
    f.muxer->on_host_events();
    const std::string more = recv_some(peer.get(), sent.size() - got.size(), std::chrono::milliseconds(50));
    if (more.empty() && f.muxer->buffered_bytes() == 0) break;
    got += more;
  }
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent);
  EXPECT_EQ(f.errors.count(), 0u);
}

TEST(VsockMuxer, HalfCloseAndPeerDeath) {
  MuxerFixture f;
  auto [fd, local] = f.host_connect(52);
  ASSERT_TRUE(send_all(fd.get(), "last"));
  ASSERT_EQ(::shutdown(fd.get(), SHUT_WR), 0);
  auto data = f.guest.wait_packet();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->data, "last");
  auto sd = f.guest.wait_packet();
  ASSERT_TRUE(sd);
  EXPECT_EQ(sd->h.op, Op::kShutdown);
  EXPECT_EQ(sd->h.flags, kShutdownSend);
  // The other direction still works.
  f.guest.send(guest_header(Op::kRw, 52, local, 5), "still");
  EXPECT_EQ(recv_some(fd.get(), 5), "still");
  // The guest stops sending: the host reads EOF.
  f.guest.send(guest_header(Op::kShutdown, 52, local, 0, kShutdownSend));
  EXPECT_TRUE(sees_eof(fd.get()));
  // The host program exits: SHUTDOWN both, then the guest's RST ends the stream.
  fd.reset();
  auto gone = f.guest.wait_packet();
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->h.op, Op::kShutdown);
  EXPECT_EQ(gone->h.flags, kShutdownBoth);
  EXPECT_EQ(f.muxer->connection_count(), 1u);
  f.guest.send(guest_header(Op::kRst, 52, local));
  EXPECT_EQ(f.muxer->connection_count(), 0u);
}

TEST(VsockMuxer, GuestCloseEndsWithReset) {
  MuxerFixture f;
  auto [fd, local] = f.host_connect(52);
  f.guest.send(guest_header(Op::kRw, 52, local, 3), "bye");
  f.guest.send(guest_header(Op::kShutdown, 52, local, 0, kShutdownBoth));
  auto rst = f.guest.recv();
  ASSERT_TRUE(rst);
  EXPECT_EQ(rst->h.op, Op::kRst);
  EXPECT_EQ(recv_some(fd.get(), 3), "bye");
  EXPECT_TRUE(sees_eof(fd.get()));
  EXPECT_EQ(f.muxer->connection_count(), 0u);
}

TEST(VsockMuxer, HostDeathWhileTheGuestSendsIsReset) {
  MuxerFixture f;
  auto [fd, local] = f.host_connect(52);
  fd.reset();
  // Whichever the muxer sees first: the hang-up (SHUTDOWN both) or the failed write (RST).
  f.guest.send(guest_header(Op::kRw, 52, local, 3), "abc");
  auto p = f.guest.wait_packet();
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->h.op == Op::kRst || (p->h.op == Op::kShutdown && p->h.flags == kShutdownBoth));
  if (p->h.op == Op::kShutdown) f.guest.send(guest_header(Op::kRst, 52, local));
  EXPECT_EQ(f.muxer->connection_count(), 0u);
}

TEST(VsockMuxer, ManyStreamsAtOnce) {
  MuxerFixture f;
  std::vector<std::pair<UniqueFd, uint32_t>> hosts;
  for (uint32_t i = 0; i < 100; ++i) hosts.push_back(f.host_connect(1000 + i));
  EXPECT_EQ(f.muxer->connection_count(), 100u);
  for (uint32_t i = 0; i < 100; ++i) ASSERT_TRUE(send_all(hosts[i].first.get(), "n" + std::to_string(i)));
  std::map<uint32_t, std::string> seen;
  while (seen.size() < 100) {
    auto p = f.guest.wait_packet();
    ASSERT_TRUE(p);
    ASSERT_EQ(p->h.op, Op::kRw);
    seen[p->h.dst_port] += p->data;
  }
  for (uint32_t i = 0; i < 100; ++i) {
    EXPECT_EQ(seen[1000 + i], "n" + std::to_string(i));
    f.guest.send(guest_header(Op::kRw, 1000 + i, hosts[i].second, 1), "!");
    EXPECT_EQ(recv_some(hosts[i].first.get(), 1), "!");
  }
  f.muxer->reset();  // the driver reset: every host socket is closed
  for (auto& [fd, local] : hosts) EXPECT_TRUE(sees_eof(fd.get()));
  EXPECT_EQ(f.muxer->connection_count(), 0u);
}

TEST(VsockMuxer, ConnectionBound) {
  MuxerFixture f(256 * 1024, /*max_connections=*/4);
  UniqueFd listener = listen_unix(f.muxer->options().uds_path + "_5003");
  for (uint32_t i = 0; i < 6; ++i) f.guest.send(guest_header(Op::kRequest, 3000 + i, 5003));
  int responses = 0, resets = 0;
  while (auto p = f.guest.recv()) (p->h.op == Op::kResponse ? responses : resets)++;
  EXPECT_EQ(responses, 4);
  EXPECT_EQ(resets, 2);
  EXPECT_EQ(f.muxer->connection_count(), 4u);
  // A host program beyond the bound is closed at once.
  UniqueFd extra = connect_unix(f.muxer->options().uds_path);
  (void)wait_until([&] {
    f.muxer->on_host_events();
    return false;
  }, std::chrono::milliseconds(100));
  EXPECT_TRUE(sees_eof(extra.get()));
}

TEST(VsockMuxer, StaleSocketFileIsReplacedButALiveOneIsNot) {
  kiln::test::ScratchDir dir;
  GuestErrors errors;
  MuxerOptions o;
  o.uds_path = dir.file("s.sock");
  {
    UniqueFd old = listen_unix(o.uds_path);  // closed: a stale file remains
  }
  auto m = Muxer::create(o, &errors);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  auto second = Muxer::create(o, &errors);
  EXPECT_FALSE(second.has_value());
  m->reset();
  m = tl::unexpected(Error{"destroyed"});  // the socket file goes with the muxer
  EXPECT_NE(::access(o.uds_path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace kiln::virtio::vsock::test
