// virtio-net pause and snapshot state: buffers taken ahead go back to the ring at pause (nothing
// stays in flight), the MAC, status, filter and offloads survive save/restore, and restore
// refuses bad records. Also the MAC address helpers.
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "virtio/net/mac_address.h"
#include "virtio_net_test_util.h"

namespace kiln::virtio::net::test {
namespace {

TEST(VirtioNetState, PauseGivesBackTheBuffersTakenAhead) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf)));
  for (uint64_t i = 0; i < 8; ++i) h.post_rx(kData + i * 4096, 4096, i == 7);
  h.host_send(framed(12, kGuestMac, 100));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  ASSERT_TRUE(h.device->pause());
  const SplitQueue* q = h.device->active_queue(NetDevice::kRxQueue);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->in_flight(), 0);
  EXPECT_EQ(q->next_avail(), 1);  // the seven unused buffers are available again
  h.device->resume();
  h.host_send(framed(12, kGuestMac, 100, 2));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 2; }));
  EXPECT_EQ(h.rx.used(1).id, 1);  // the next buffer in ring order
}

TEST(VirtioNetState, PauseDropsAHeldFrameAndReturnsItsBuffers) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf)));
  h.post_rx(kData, 4096);
  h.host_send(framed(12, kGuestMac, 10000));
  // Read by the device (nothing left in the socket) and held for want of buffers.
  ASSERT_TRUE(eventually([&] {
    int unread = -1;
    return ::ioctl(h.peer.get(), SIOCOUTQ, &unread) == 0 && unread == 0;
  }));
  ASSERT_TRUE(h.device->pause());
  EXPECT_EQ(h.device->active_queue(NetDevice::kRxQueue)->in_flight(), 0);
  EXPECT_EQ(h.device->counters().rx_drops, 1u);
  h.device->resume();
}

TEST(VirtioNetState, SaveRestoreCarriesMacStatusFilterAndOffloads) {
  NetHarness a;
  const uint64_t f = base_features() | feature(kFCtrlVlan) | feature(kFGuestAnnounce) | feature(kFCtrlMacAddr) |
                     feature(kFCtrlGuestOffloads) | feature(kFGuestCsum) | feature(kFGuestTso4);
  ASSERT_TRUE(a.activate(f));
  const MacAddress fresh{0x02, 0xab, 0xcd, 0, 0, 7};
  ASSERT_EQ(a.command(kCtrlMac, kCtrlMacAddrSet, {fresh.begin(), fresh.end()}), kCtrlOk);
  ASSERT_EQ(a.command(kCtrlRx, kCtrlRxPromisc, {0}), kCtrlOk);
  ASSERT_EQ(a.command(kCtrlVlan, kCtrlVlanAdd, {5, 0}), kCtrlOk);
  std::vector<uint8_t> off(8, 0);
  off[0] = static_cast<uint8_t>(feature(kFGuestCsum));
  ASSERT_EQ(a.command(kCtrlGuestOffloads, kCtrlGuestOffloadsSet, off), kCtrlOk);
  ASSERT_TRUE(a.device->announce());
  ASSERT_TRUE(a.device->pause());
  snapshot::Encoder out;
  a.device->save_state(out);

  NetHarness b;  // another tap, the configured MAC of the new VM is the old one
  snapshot::Decoder in(out.data(), "net");
  ASSERT_TRUE(b.device->restore_state(in));
  EXPECT_TRUE(in.finish());
  EXPECT_EQ(b.device->mac(), fresh);
  EXPECT_EQ(b.device->status(), kStatusLinkUp | kStatusAnnounce);
  EXPECT_FALSE(b.device->rx_filter().promisc());
  EXPECT_TRUE(b.device->rx_filter().vlan(5));
  ASSERT_TRUE(b.activate(f, /*restored=*/true));
  EXPECT_EQ(b.state->offloads.load(), kOffloadCsum);  // the guest's last choice, not the negotiated set
  EXPECT_EQ(b.command(kCtrlAnnounce, kCtrlAnnounceAck, {}), kCtrlOk);
  EXPECT_EQ(b.device->status(), kStatusLinkUp);
}

TEST(VirtioNetState, RestoreRefusesBadRecords) {
  NetHarness a;
  snapshot::Encoder out;
  a.device->save_state(out);
  std::vector<uint8_t> bytes = out.data();
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    snapshot::Decoder in(std::span(bytes.data(), cut), "net");
    EXPECT_FALSE(a.device->restore_state(in)) << cut;
  }
  std::vector<uint8_t> bad = bytes;
  bad[4 + 6] = 0x80;  // status: an unknown bit
  snapshot::Decoder in(bad, "net");
  EXPECT_FALSE(a.device->restore_state(in));
  // Offloads this tap cannot do.
  NetHarness plain(0);
  snapshot::Encoder with_offloads;
  NetHarness c;
  ASSERT_TRUE(c.activate(base_features() | feature(kFGuestCsum)));
  ASSERT_TRUE(c.device->pause());
  c.device->save_state(with_offloads);
  snapshot::Decoder in2(with_offloads.data(), "net");
  auto r = plain.device->restore_state(in2);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("fake0"), std::string::npos) << r.error().message;
  EXPECT_EQ(plain.device->mac(), kGuestMac);  // unchanged
}

TEST(MacAddress, ParseFormatDerive) {
  auto m = parse_mac("06:00:AC:10:00:02");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, kGuestMac);
  EXPECT_EQ(format_mac(*m), "06:00:ac:10:00:02");
  EXPECT_FALSE(parse_mac("06:00:ac:10:00"));
  EXPECT_FALSE(parse_mac("06:00:ac:10:00:0g"));
  EXPECT_FALSE(parse_mac("01:00:5e:00:00:01"));  // multicast
  EXPECT_FALSE(parse_mac("00:00:00:00:00:00"));
  const MacAddress d = derived_mac("vm1/eth0");
  EXPECT_EQ(d, derived_mac("vm1/eth0"));
  EXPECT_NE(d, derived_mac("vm1/eth1"));
  EXPECT_EQ(d[0] & 3, 2);  // locally administered unicast
}

}  // namespace
}  // namespace kiln::virtio::net::test
