// Test doubles for the virtio-net unit tests: a backend over a SOCK_SEQPACKET socketpair (one
// message per frame, as a tap; the test holds the other end), and a harness that activates a
// NetDevice the way the transport does, with a driver-side queue per virtqueue.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/event_fd.h"
#include "common/unique_fd.h"
#include "virtio/net/net_device.h"
#include "virtio_test_queue.h"

namespace kiln::virtio::net::test {

using virtio::test::Buf;
using virtio::test::DriverQueue;
using virtio::test::RecordingInterrupt;

inline bool eventually(const std::function<bool()>& pred) {
  return virtio::test::eventually_within(pred, std::chrono::seconds(5));
}

// What the fake was configured with, shared with the test after the device owns the backend.
struct FakeState {
  std::atomic<uint32_t> header_bytes{0};
  std::atomic<unsigned> offloads{~0u};
  std::atomic<int> configures{0};
  std::atomic<bool> fail_writes{false};
};

class FakeBackend final : public NetBackend {
 public:
  FakeBackend(UniqueFd fd, std::shared_ptr<FakeState> state, unsigned supported)
      : fd_(std::move(fd)), state_(std::move(state)), supported_(supported) {}
  [[nodiscard]] const std::string& name() const override { return name_; }
  [[nodiscard]] int fd() const override { return fd_.get(); }
  [[nodiscard]] Result<size_t> read(std::span<const iovec> iov) override {
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov.data());
    m.msg_iovlen = iov.size();
    const ssize_t n = ::recvmsg(fd_.get(), &m, MSG_TRUNC);  // the full length, as tun reports it
    if (n < 0) return errno == EAGAIN ? Result<size_t>(0) : fail_errno("fake read");
    if (n == 0) return fail("fake read: the host end is gone");  // as a deleted tap (EBADFD)
    return static_cast<size_t>(n);
  }
  [[nodiscard]] Status write(std::span<const iovec> iov) override {
    if (state_->fail_writes) return fail("fake write refused");
    msghdr m{};
    m.msg_iov = const_cast<iovec*>(iov.data());
    m.msg_iovlen = iov.size();
    if (::sendmsg(fd_.get(), &m, MSG_NOSIGNAL) < 0) return fail_errno("fake write");
    return {};
  }
  [[nodiscard]] Status configure(uint32_t header_bytes, unsigned offloads) override {
    state_->header_bytes = header_bytes;
    state_->offloads = offloads;
    ++state_->configures;
    return {};
  }
  [[nodiscard]] unsigned supported_offloads() const override { return supported_; }

 private:
  std::string name_ = "fake0";
  UniqueFd fd_;
  std::shared_ptr<FakeState> state_;
  unsigned supported_;
};

inline constexpr unsigned kAllOffloads = kOffloadCsum | kOffloadTso4 | kOffloadTso6 | kOffloadTsoEcn | kOffloadUfo;
inline constexpr MacAddress kGuestMac{0x06, 0x00, 0xac, 0x10, 0x00, 0x02};

// Guest RAM: queues at 64/128/192 KiB, buffers from 1 MiB (8 MiB of RAM).
inline constexpr uint64_t kRxBase = 64 * KiB;
inline constexpr uint64_t kTxBase = 128 * KiB;
inline constexpr uint64_t kCtrlBase = 192 * KiB;
inline constexpr uint64_t kData = 1 * MiB;

struct NetHarness {
  explicit NetHarness(unsigned supported = kAllOffloads) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    peer.reset(fds[1]);
    // Room for several 64 KiB frames queued towards the device.
    const int size = 4 * 1024 * 1024;
    ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    device = std::make_unique<NetDevice>(std::make_unique<FakeBackend>(UniqueFd(fds[0]), state, supported), kGuestMac);
  }
  // Over a real backend (a tap); `peer` stays unset.
  explicit NetHarness(std::unique_ptr<NetBackend> backend) : device(std::make_unique<NetDevice>(std::move(backend), kGuestMac)) {}
  ~NetHarness() { device->reset(); }

  // Plays the transport at DRIVER_OK; `restored` continues queues from a snapshot.
  [[nodiscard]] bool activate(uint64_t features, bool restored = false) {
    features_ = features;
    Activation a;
    a.mem = &mem;
    a.features = features;
    a.interrupt = &interrupt;
    a.restored = restored;
    DriverQueue* queues[] = {&rx, &tx, &ctrl};
    EventFd* notifies[] = {&rx_notify, &tx_notify, &ctrl_notify};
    for (size_t i = 0; i < 3; ++i) {
      ActiveQueue aq;
      auto queue = SplitQueue::create(mem, queues[i]->layout(), features);
      EXPECT_TRUE(queue.has_value());
      aq.queue.emplace(std::move(*queue));
      aq.notify_fd = notifies[i]->fd();
      a.queues.push_back(std::move(aq));
    }
    auto ok = device->activate(std::move(a));
    EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error().message);
    return ok.has_value();
  }
  [[nodiscard]] uint32_t hdr() const { return (features_ & feature(kFMrgRxbuf)) != 0 ? 12 : 10; }

  // The host side: one frame (virtio header + Ethernet frame) into / out of the "tap".
  void host_send(const std::vector<uint8_t>& frame) const {
    ASSERT_EQ(::send(peer.get(), frame.data(), frame.size(), 0), static_cast<ssize_t>(frame.size()));
  }
  [[nodiscard]] std::optional<std::vector<uint8_t>> host_receive(int timeout_ms = 5000) const {
    pollfd p{peer.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    std::vector<uint8_t> buf(128 * 1024);
    const ssize_t n = ::recv(peer.get(), buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    return buf;
  }

  // A transmit chain: header then frame, in `pieces` descriptors.
  uint16_t guest_send(const std::vector<uint8_t>& bytes, uint64_t at = kData + 4 * MiB) {
    write(at, bytes);
    const uint16_t head = tx.add({{at, static_cast<uint32_t>(bytes.size())}});
    tx_notify.signal();
    return head;
  }
  // Posts one receive buffer of `len` bytes at `at`.
  uint16_t post_rx(uint64_t at, uint32_t len, bool notify = true) {
    const uint16_t head = rx.add({{at, len, true}});
    if (notify) rx_notify.signal();
    return head;
  }
  // Sends a control command; returns the status byte (or 0xee when not answered).
  uint8_t command(uint8_t cls, uint8_t cmd, const std::vector<uint8_t>& data) {
    const uint64_t at = kData + 6 * MiB;
    std::vector<uint8_t> out{cls, cmd};
    out.insert(out.end(), data.begin(), data.end());
    write(at, out);
    EXPECT_TRUE(mem.write_obj(GuestAddress(at + 4096), uint8_t{0xee}));
    const uint16_t before = ctrl.used_idx();
    if (data.empty()) {
      ctrl.add({{at, 2}, {at + 4096, 1, true}});
    } else {
      ctrl.add({{at, 2}, {at + 2, static_cast<uint32_t>(data.size())}, {at + 4096, 1, true}});
    }
    ctrl_notify.signal();
    if (!eventually([&] { return ctrl.used_idx() != before; })) return 0xee;
    return mem.read_obj<uint8_t>(GuestAddress(at + 4096)).value_or(0xee);
  }

  void write(uint64_t addr, const std::vector<uint8_t>& bytes) { EXPECT_TRUE(mem.write(GuestAddress(addr), bytes)); }
  [[nodiscard]] std::vector<uint8_t> read(uint64_t addr, size_t len) const {
    std::vector<uint8_t> out(len);
    EXPECT_TRUE(mem.read(GuestAddress(addr), out));
    return out;
  }

  GuestMemory mem = virtio::test::make_guest_ram(16 * MiB);
  DriverQueue rx{mem, kRxBase, 256};
  DriverQueue tx{mem, kTxBase, 256};
  DriverQueue ctrl{mem, kCtrlBase, 64};
  EventFd rx_notify = *EventFd::create();
  EventFd tx_notify = *EventFd::create();
  EventFd ctrl_notify = *EventFd::create();
  RecordingInterrupt interrupt;
  std::shared_ptr<FakeState> state = std::make_shared<FakeState>();
  UniqueFd peer;
  std::unique_ptr<NetDevice> device;
  uint64_t features_ = 0;
};

// An Ethernet frame to `dest` of `len` bytes (pattern from `seed`) behind a zeroed virtio header.
inline std::vector<uint8_t> framed(uint32_t hdr, const MacAddress& dest, size_t len, uint8_t seed = 1) {
  std::vector<uint8_t> f(hdr + len);
  std::memcpy(f.data() + hdr, dest.data(), 6);
  for (size_t i = 6; i < len; ++i) f[hdr + i] = static_cast<uint8_t>(seed + i * 13);
  if (len >= 14) {
    f[hdr + 12] = 0x08;  // IPv4
    f[hdr + 13] = 0x00;
  }
  return f;
}

inline uint64_t base_features() { return feature(kFMac) | feature(kFStatus) | feature(kFCtrlVq) | feature(kFCtrlRx); }

}  // namespace kiln::virtio::net::test
