// virtio-vsock as its transport drives it: queues in fake guest RAM filled the way Linux's driver
// fills them (rx: a 44-byte header buffer and a 4 KiB data buffer; tx: header, then payload), the
// device thread serving them and real unix sockets on the host side.
#include <gtest/gtest.h>

#include <map>

#include "common/event_fd.h"
#include "scratch_dir.h"
#include "virtio/vsock/vsock_device.h"
#include "virtio_test_queue.h"
#include "vsock_test_util.h"

namespace kiln::virtio::vsock::test {
namespace {

using virtio::test::Buf;
using virtio::test::DriverQueue;
using virtio::test::RecordingInterrupt;

constexpr uint64_t kRxBase = 64 * 1024, kTxBase = 192 * 1024, kEventBase = 320 * 1024;
constexpr uint64_t kRxBuffers = 1 << 20;  // 32 x (header page + data page)
constexpr uint64_t kTxBuffers = 2 << 20;  // 64 x 68 KiB
constexpr uint64_t kEventBuffers = 7 << 20;
constexpr uint32_t kRxCount = 32, kTxSlots = 64, kTxSlot = 68 * 1024;

struct Harness {
  explicit Harness(const std::string& uds, bool post_rx = true) {
    MuxerOptions o;
    o.guest_cid = kGuestCid;
    o.uds_path = uds;
    auto d = VsockDevice::create(o);
    if (!d) ADD_FAILURE() << d.error().message;
    device = *d;
    if (post_rx) {
      for (uint32_t i = 0; i < kRxCount; ++i) post_rx_buffer(i);
    }
  }
  ~Harness() {
    if (device) device->reset();
  }
  [[nodiscard]] bool activate(bool restored = false) {
    Activation a;
    a.mem = &mem;
    a.features = device->features();
    a.interrupt = &interrupt;
    a.restored = restored;
    const DriverQueue* qs[] = {&rx, &tx, &event};
    const EventFd* fds[] = {&rx_notify, &tx_notify, &event_notify};
    for (int i = 0; i < 3; ++i) {
      ActiveQueue aq;
      auto q = SplitQueue::create(mem, qs[i]->layout(), a.features);
      EXPECT_TRUE(q.has_value());
      aq.queue.emplace(std::move(*q));
      aq.notify_fd = fds[i]->fd();
      a.queues.push_back(std::move(aq));
    }
    return device->activate(std::move(a)).has_value();
  }
  void post_rx_buffer(uint32_t slot) {
    const uint64_t at = kRxBuffers + slot * 8192ull;
    const uint16_t head = rx.add({Buf{at, kHeaderSize, true}, Buf{at + 4096, 4096, true}});
    rx_slot[head] = slot;
    rx_notify.signal();
  }
  void send(const Header& h, std::string_view payload = {}) {
    ASSERT_TRUE(virtio::test::eventually_within([&] { return tx.in_flight_below(kTxSlots / 2); }, std::chrono::seconds(5)));
    const uint64_t at = kTxBuffers + (tx_next++ % kTxSlots) * uint64_t{kTxSlot};
    const auto raw = encode_header(h);
    ASSERT_TRUE(mem.write(GuestAddress(at), raw));
    ASSERT_TRUE(mem.write(GuestAddress(at + 64), std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size())));
    if (payload.empty()) {
      tx.add({Buf{at, kHeaderSize}});
    } else {
      tx.add({Buf{at, kHeaderSize}, Buf{at + 64, static_cast<uint32_t>(payload.size())}});
    }
    tx_notify.signal();
  }
  // The next packet the device put in an rx buffer (the buffer goes back to the queue).
  std::optional<Packet> recv(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    if (!virtio::test::eventually_within([&] { return rx.used_idx() != rx_seen; }, timeout)) return std::nullopt;
    const UsedElement e = rx.used(rx_seen++);
    const uint32_t slot = rx_slot.at(static_cast<uint16_t>(e.id));
    const uint64_t at = kRxBuffers + slot * 8192ull;
    std::array<uint8_t, kHeaderSize> raw{};
    EXPECT_TRUE(mem.read(GuestAddress(at), raw));
    Packet p{decode_header(raw), {}};
    EXPECT_EQ(e.len, kHeaderSize + p.h.len);
    p.data.resize(std::min<uint32_t>(p.h.len, 4096));
    EXPECT_TRUE(mem.read(GuestAddress(at + 4096), std::span(reinterpret_cast<uint8_t*>(p.data.data()), p.data.size())));
    post_rx_buffer(slot);
    return p;
  }

  GuestMemory mem = virtio::test::make_guest_ram(8 << 20);
  DriverQueue rx{mem, kRxBase, 128};
  DriverQueue tx{mem, kTxBase, 128};
  DriverQueue event{mem, kEventBase, 8};
  EventFd rx_notify = *EventFd::create();
  EventFd tx_notify = *EventFd::create();
  EventFd event_notify = *EventFd::create();
  RecordingInterrupt interrupt;
  std::shared_ptr<VsockDevice> device;
  std::map<uint16_t, uint32_t> rx_slot;
  uint16_t rx_seen = 0;
  uint32_t tx_next = 0;
};

TEST(VsockDevice, IdentityAndConfig) {
  kiln::test::ScratchDir dir;
  Harness h(dir.file("v.sock"));
  EXPECT_EQ(h.device->device_id(), 19u);
  EXPECT_EQ(h.device->num_queues(), 3);
  std::array<uint8_t, 8> cid{};
  h.device->read_config(0, cid);
  EXPECT_EQ(cid[0], kGuestCid);
  std::array<uint8_t, 4> high{};
  h.device->read_config(4, high);
  EXPECT_EQ(high, (std::array<uint8_t, 4>{}));
  MuxerOptions bad;
  bad.guest_cid = 2;
  bad.uds_path = dir.file("w.sock");
  EXPECT_FALSE(VsockDevice::create(bad).has_value());
}

// A host program talks to a guest port: CONNECT, OK, then 1 MiB each way with the guest honouring
// and granting credit as Linux does.
TEST(VsockDevice, HostInitiatedStreamCarriesAMegabyteEachWay) {
  kiln::test::ScratchDir dir;
  Harness h(dir.file("v.sock"));
  ASSERT_TRUE(h.activate());
  UniqueFd host = connect_unix(dir.file("v.sock"));
  ASSERT_TRUE(send_all(host.get(), "CONNECT 52\n"));
  auto req = h.recv();
  ASSERT_TRUE(req);
  ASSERT_EQ(req->h.op, Op::kRequest);
  const uint32_t local = req->h.src_port;
  constexpr uint32_t kGuestBuf = 256 * 1024;
  h.send(guest_header(Op::kResponse, 52, local, 0, 0, kGuestBuf));
  ASSERT_EQ(recv_line(host.get()), "OK " + std::to_string(local));

  std::string out(1 << 20, '\0');
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 7 + i / 4096);
  std::thread writer([&] { EXPECT_TRUE(send_all(host.get(), out)); });
  std::string in;
  uint32_t consumed = 0;
  while (in.size() < out.size()) {
    auto p = h.recv();
    ASSERT_TRUE(p) << in.size();
    if (p->h.op != Op::kRw) continue;
    in += p->data;
    consumed += p->h.len;
    if (consumed % (64 * 1024) < p->h.len) h.send(guest_header(Op::kCreditUpdate, 52, local, 0, 0, kGuestBuf, consumed));
  }
  writer.join();
  EXPECT_TRUE(in == out);

  // Guest to host, within the credit kiln announces.
  uint32_t tx_cnt = 0, fwd = 0, alloc = 0;
  alloc = req->h.buf_alloc;
  std::string got;
  std::thread reader([&] { got = recv_some(host.get(), out.size(), std::chrono::seconds(30)); });
  size_t sent = 0;
  while (sent < out.size()) {
    const uint32_t credit = alloc - (tx_cnt - fwd);
    if (credit == 0) {
      auto p = h.recv();
      ASSERT_TRUE(p);
      fwd = p->h.fwd_cnt;
      alloc = p->h.buf_alloc;
      continue;
    }
    const size_t n = std::min<size_t>({credit, 4096, out.size() - sent});
    h.send(guest_header(Op::kRw, 52, local, static_cast<uint32_t>(n), 0, kGuestBuf, consumed), std::string_view(out).substr(sent, n));
    sent += n;
    tx_cnt += static_cast<uint32_t>(n);
  }
  reader.join();
  EXPECT_TRUE(got == out) << got.size();
  EXPECT_EQ(h.device->guest_errors().count(), 0u);
  EXPECT_GT(h.interrupt.used.load(), 0);
}

TEST(VsockDevice, GuestConnectToNobodyGetsReset) {
  kiln::test::ScratchDir dir;
  Harness h(dir.file("v.sock"));
  ASSERT_TRUE(h.activate());
  h.send(guest_header(Op::kRequest, 40000, 1234));
  auto p = h.recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->h.op, Op::kRst);
  EXPECT_EQ(p->h.dst_port, 40000u);
  EXPECT_EQ(p->h.src_cid, kHostCid);
  EXPECT_EQ(p->h.dst_cid, kGuestCid);
  UniqueFd listener = listen_unix(dir.file("v.sock") + "_1234");
  h.send(guest_header(Op::kRequest, 40001, 1234));
  p = h.recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->h.op, Op::kResponse);
  EXPECT_TRUE(virtio::test::eventually_within([&] { return h.device->connections() == 1; }, std::chrono::seconds(5)));
  // The driver resets the device: the host socket closes.
  UniqueFd peer(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  h.device->reset();
  EXPECT_TRUE(sees_eof(peer.get()));
  EXPECT_EQ(h.device->connections(), 0u);
}

TEST(VsockDevice, MalformedChainsAreCounted) {
  kiln::test::ScratchDir dir;
  Harness h(dir.file("v.sock"));
  ASSERT_TRUE(h.activate());
  // A tx chain shorter than a header, and a header whose len runs past the chain.
  h.tx.add({Buf{kTxBuffers, 10}});
  h.tx_notify.signal();
  h.send(guest_header(Op::kRw, 1, 2, 5000), "tiny");
  auto p = h.recv();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->h.op, Op::kRst);
  EXPECT_TRUE(virtio::test::eventually_within([&] { return h.device->guest_errors().count() == 2; }, std::chrono::seconds(5)));
}

// Snapshot: the CID is saved; the restored device (new uds_path) announces TRANSPORT_RESET on the
// event queue as soon as the driver's event buffers are there.
TEST(VsockDevice, RestoreAnnouncesTransportReset) {
  kiln::test::ScratchDir dir;
  snapshot::Encoder out;
  {
    Harness h(dir.file("a.sock"));
    ASSERT_TRUE(h.activate());
    ASSERT_TRUE(h.device->pause());
    h.device->save_state(out);
  }
  Harness h(dir.file("b.sock"), /*post_rx=*/false);
  snapshot::Decoder in(out.data(), "vsock");
  ASSERT_TRUE(h.device->restore_state(in));
  EXPECT_TRUE(h.device->reset_event_pending());
  ASSERT_TRUE(h.activate(/*restored=*/true));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(h.event.used_idx(), 0);  // no event buffer yet
  ASSERT_TRUE(h.mem.write_obj(GuestAddress(kEventBuffers), uint32_t{0xffffffff}));
  h.event.add({Buf{kEventBuffers, 4, true}});
  h.event_notify.signal();
  ASSERT_TRUE(virtio::test::eventually_within([&] { return h.event.used_idx() == 1; }, std::chrono::seconds(5)));
  EXPECT_EQ(h.event.used(0).len, 4u);
  EXPECT_EQ(*h.mem.read_obj<uint32_t>(GuestAddress(kEventBuffers)), kEventTransportReset);
  EXPECT_FALSE(h.device->reset_event_pending());

  // A snapshot of another CID is refused.
  MuxerOptions o;
  o.guest_cid = 9;
  o.uds_path = dir.file("c.sock");
  auto other = VsockDevice::create(o);
  ASSERT_TRUE(other);
  snapshot::Decoder again(out.data(), "vsock");
  EXPECT_FALSE((*other)->restore_state(again));
}

TEST(VsockDevice, PauseReturnsTheHeldRxBuffer) {
  kiln::test::ScratchDir dir;
  Harness h(dir.file("v.sock"));
  ASSERT_TRUE(h.activate());
  UniqueFd host = connect_unix(dir.file("v.sock"));
  ASSERT_TRUE(send_all(host.get(), "CONNECT 52\n"));
  auto req = h.recv();
  ASSERT_TRUE(req);
  h.send(guest_header(Op::kResponse, 52, req->h.src_port));
  ASSERT_EQ(recv_line(host.get()), "OK " + std::to_string(req->h.src_port));
  ASSERT_TRUE(h.device->pause());
  EXPECT_TRUE(h.device->active_queue(kRxQueue)->in_flight() == 0);
  h.device->resume();
  ASSERT_TRUE(send_all(host.get(), "after"));
  std::optional<Packet> p;
  do {
    p = h.recv();
  } while (p && p->h.len == 0 && p->h.op != Op::kRw);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->data, "after");
}

}  // namespace
}  // namespace kiln::virtio::vsock::test
