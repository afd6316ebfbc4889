// virtio-net behind the virtio-mmio transport, driven by kiln's own driver library (an
// independent reading of the spec): identity, features, the MAC in configuration space, three
// queues, and frames both ways as a Linux driver lays them out (MRG_RXBUF, 12-byte header).
#include <gtest/gtest.h>

#include "devices/irq.h"
#include "drivers/virtio/device.h"
#include "drivers/virtio/hosted/kiln.h"
#include "drivers/virtio/mmio.h"
#include "virtio/transports/mmio/mmio_transport.h"
#include "virtio/transports/pci/pci_legacy_transport.h"
#include "virtio_net_test_util.h"

namespace kiln::virtio::net::test {
namespace {

namespace drv = kiln::driver;

class CountingTrigger final : public IrqTrigger {
 public:
  void trigger() override { ++count; }
  std::atomic<int> count{0};
};

TEST(VirtioNetMmio, DriverLibrarySession) {
  GuestMemory mem = virtio::test::make_guest_ram(8 * MiB);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  UniqueFd peer(fds[1]);
  auto state = std::make_shared<FakeState>();
  auto device = std::make_shared<NetDevice>(std::make_unique<FakeBackend>(UniqueFd(fds[0]), state, kAllOffloads), kGuestMac);
  auto irq = std::make_shared<CountingTrigger>();
  auto transport = *MmioTransport::create(mem, device, irq);
  drv::LegacyMmio<drv::BusRegisters> t{drv::BusRegisters{transport.get()}};
  drv::Arena arena{drv::window_of(mem, GuestAddress(2 * MiB), 4 * MiB)};

  drv::MmioIdentity id;
  ASSERT_EQ(t.identify(id), drv::Error::none);
  EXPECT_EQ(id.device_id, drv::kDeviceNet);
  const uint64_t wanted = drv::bit(kFMac) | drv::bit(kFStatus) | drv::bit(kFMrgRxbuf) | drv::bit(kFCtrlVq) |
                          drv::bit(kFCtrlRx) | drv::bit(kFGuestCsum) | drv::bit(kFCsum) | drv::bit(kFHostTso4) |
                          drv::bit(drv::kFeatureEventIdx);
  auto accepted = drv::negotiate(t, wanted);
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(*accepted, wanted);
  for (uint32_t i = 0; i < 6; ++i) EXPECT_EQ(t.config8(i), kGuestMac[i]) << i;
  EXPECT_EQ(t.config16(6), kStatusLinkUp);
  drv::Queue<drv::LegacyMmio<drv::BusRegisters>> queues[3];
  for (uint16_t q = 0; q < 3; ++q) {
    auto ring = drv::setup_queue(t, arena, q, q == 2 ? 64 : 256, drv::ring_options(*accepted, 16));
    ASSERT_TRUE(ring.ok()) << q;
    queues[q] = *ring;
  }
  ASSERT_EQ(drv::driver_ok(t), drv::Error::none);
  EXPECT_EQ(state->header_bytes.load(), 12u);
  EXPECT_EQ(state->offloads.load(), kOffloadCsum);

  // Receive: two 2 KiB buffers, a 3000-byte frame spreads over both.
  auto rx = arena.allocate(4096, 4096);
  ASSERT_TRUE(rx.ok());
  for (uint64_t i = 0; i < 2; ++i) {
    const drv::Segment seg{rx->phys + i * 2048, 2048};
    ASSERT_TRUE(queues[0].add(&seg, 0, 1, i).ok());
  }
  queues[0].kick();
  const std::vector<uint8_t> in = framed(12, kGuestMac, 3000, 9);
  ASSERT_EQ(::send(peer.get(), in.data(), in.size(), 0), static_cast<ssize_t>(in.size()));
  drv::Completion c;
  ASSERT_TRUE(eventually([&] { return queues[0].poll(c) != drv::Poll::empty; }));
  EXPECT_EQ(c.token, 0u);
  EXPECT_EQ(c.len, 2048u);
  EXPECT_EQ(rx->host[10], 2);  // num_buffers
  ASSERT_EQ(queues[0].poll(c), drv::Poll::done);  // published together with the first
  EXPECT_EQ(c.len, in.size() - 2048);
  EXPECT_EQ(std::memcmp(rx->host + 12, in.data() + 12, in.size() - 12), 0);
  EXPECT_TRUE(eventually([&] { return irq->count.load() > 0; }));  // raised after the used ring moved

  // Transmit: header and frame in one buffer (ANY_LAYOUT-style), then a control command.
  auto tx = arena.allocate(4096, 4096);
  ASSERT_TRUE(tx.ok());
  const std::vector<uint8_t> out = framed(12, {0x02, 1, 2, 3, 4, 5}, 1000, 4);
  std::memcpy(tx->host, out.data(), out.size());
  const drv::Segment seg{tx->phys, static_cast<uint32_t>(out.size())};
  ASSERT_TRUE(queues[1].add(&seg, 1, 0, 7).ok());
  queues[1].kick();
  pollfd p{peer.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  std::vector<uint8_t> got(4096);
  got.resize(static_cast<size_t>(::recv(peer.get(), got.data(), got.size(), 0)));
  EXPECT_EQ(got, out);

  auto cmd = arena.allocate(64, 64);
  ASSERT_TRUE(cmd.ok());
  cmd->host[0] = kCtrlRx;
  cmd->host[1] = kCtrlRxPromisc;
  cmd->host[2] = 0;
  cmd->host[8] = 0xee;
  const drv::Segment segs[] = {{cmd->phys, 2}, {cmd->phys + 2, 1}, {cmd->phys + 8, 1}};
  ASSERT_TRUE(queues[2].add(segs, 2, 1, 3).ok());
  queues[2].kick();
  ASSERT_TRUE(eventually([&] { return queues[2].poll(c) != drv::Poll::empty; }));
  EXPECT_EQ(c.len, 1u);
  EXPECT_EQ(cmd->host[8], kCtrlOk);

  t.reset();
  EXPECT_FALSE(device->active());
  transport->shutdown();
}

TEST(VirtioNetPci, TransitionalIdentity) {
  auto id = legacy_pci_identity(kIdNet);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->device_id, 0x1000);
  EXPECT_EQ(id->class_code, 0x020000u);  // network controller, Ethernet
}

}  // namespace
}  // namespace kiln::virtio::net::test
