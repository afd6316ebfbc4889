// virtio-net features, configuration space and the control queue (queue 2): receive mode and
// MAC/VLAN filters as the driver sets them, MAC changes, guest offloads and announcements.
#include <gtest/gtest.h>

#include "virtio_net_test_util.h"

namespace kiln::virtio::net::test {
namespace {

constexpr uint64_t kCtrlAll = feature(kFMac) | feature(kFStatus) | feature(kFCtrlVq) | feature(kFCtrlRx) |
                              feature(kFCtrlVlan) | feature(kFGuestAnnounce) | feature(kFCtrlMacAddr) |
                              feature(kFCtrlGuestOffloads) | feature(kFGuestCsum) | feature(kFGuestTso4) |
                              feature(kFGuestTso6);

std::vector<uint8_t> mac_bytes(const MacAddress& m) { return {m.begin(), m.end()}; }
std::vector<uint8_t> table(std::initializer_list<MacAddress> macs) {
  std::vector<uint8_t> out{static_cast<uint8_t>(macs.size()), 0, 0, 0};
  for (const MacAddress& m : macs) out.insert(out.end(), m.begin(), m.end());
  return out;
}

TEST(VirtioNetFeatures, OffloadsFollowTheTap) {
  NetHarness full(kAllOffloads);
  const uint64_t f = full.device->features();
  for (unsigned bit : {kFMac, kFStatus, kFCsum, kFGuestCsum, kFHostTso4, kFHostTso6, kFGuestTso4, kFGuestTso6, kFHostEcn,
                       kFGuestEcn, kFHostUfo, kFGuestUfo, kFMrgRxbuf, kFCtrlVq, kFCtrlRx, kFCtrlVlan, kFGuestAnnounce}) {
    EXPECT_NE(f & feature(bit), 0u) << bit;
  }
  NetHarness csum_only(kOffloadCsum);
  const uint64_t g = csum_only.device->features();
  EXPECT_NE(g & feature(kFGuestCsum), 0u);
  EXPECT_EQ(g & (feature(kFGuestTso4) | feature(kFGuestUfo) | feature(kFHostUfo)), 0u);
  NetHarness none(0);
  EXPECT_EQ(none.device->features() & kGuestOffloadMask, 0u);
}

TEST(VirtioNetFeatures, TapIsConfiguredWithTheNegotiatedHeaderAndOffloads) {
  NetHarness h;
  ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf) | feature(kFGuestCsum) | feature(kFGuestTso6) |
                         feature(kFGuestEcn) | feature(kFGuestUfo)));
  EXPECT_EQ(h.state->header_bytes.load(), 12u);
  EXPECT_EQ(h.state->offloads.load(), kOffloadCsum | kOffloadTso6 | kOffloadTsoEcn | kOffloadUfo);
  NetHarness plain;
  // TSO without GUEST_CSUM means nothing to tun: no offloads at all.
  ASSERT_TRUE(plain.activate(base_features() | feature(kFGuestTso4)));
  EXPECT_EQ(plain.state->header_bytes.load(), 10u);
  EXPECT_EQ(plain.state->offloads.load(), 0u);
}

TEST(VirtioNetConfig, MacAndLinkStatus) {
  NetHarness h;
  NetConfig config{};
  h.device->read_config(0, std::span(reinterpret_cast<uint8_t*>(&config), sizeof(config)));
  EXPECT_EQ(config.mac, kGuestMac);
  EXPECT_EQ(config.status, kStatusLinkUp);
  // A legacy driver sets its MAC byte by byte; status is read-only.
  const uint8_t b = 0x42;
  h.device->write_config(5, std::span(&b, 1));
  const uint8_t s[2] = {0, 0};
  h.device->write_config(6, s);
  EXPECT_EQ(h.device->mac()[5], 0x42);
  EXPECT_EQ(h.device->status(), kStatusLinkUp);
}

TEST(VirtioNetControl, PromiscAndMacTableFilterReceivedFrames) {
  NetHarness h;
  ASSERT_TRUE(h.activate(kCtrlAll));
  const MacAddress other{0x02, 0x99, 0, 0, 0, 1};
  const MacAddress listed{0x02, 0x88, 0, 0, 0, 2};
  const MacAddress mcast{0x33, 0x33, 0, 0, 0, 1};
  // At reset the device is promiscuous (QEMU's default), until Linux's ndo_set_rx_mode says not.
  EXPECT_EQ(h.command(kCtrlRx, kCtrlRxPromisc, {0}), kCtrlOk);
  EXPECT_EQ(h.command(kCtrlRx, kCtrlRxAllmulti, {0}), kCtrlOk);
  auto tables = table({listed});
  auto multi = table({mcast});
  tables.insert(tables.end(), multi.begin(), multi.end());
  EXPECT_EQ(h.command(kCtrlMac, kCtrlMacTableSet, tables), kCtrlOk);
  for (uint64_t i = 0; i < 8; ++i) h.post_rx(kData + i * 2048, 1526, i == 7);
  const MacAddress order[] = {other, kGuestMac, listed, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mcast, {0x01, 0, 0x5e, 0, 0, 9}};
  for (const MacAddress& m : order) h.host_send(framed(10, m, 60));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 4; }));
  // `other` and the unlisted multicast group (the last frame sent).
  EXPECT_TRUE(eventually([&] { return h.device->counters().rx_filtered == 2; }));
  EXPECT_EQ(h.rx.used_idx(), 4);
  const MacAddress expected[] = {kGuestMac, listed, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, mcast};
  for (uint64_t i = 0; i < 4; ++i) {
    auto dest = h.read(kData + i * 2048 + 10, 6);
    EXPECT_TRUE(std::equal(dest.begin(), dest.end(), expected[i].begin())) << i;
  }
  // Promiscuous again: a stranger's frame comes in.
  EXPECT_EQ(h.command(kCtrlRx, kCtrlRxPromisc, {1}), kCtrlOk);
  h.host_send(framed(10, other, 60));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 5; }));
}

TEST(VirtioNetControl, VlanFilter) {
  NetHarness h;
  ASSERT_TRUE(h.activate(kCtrlAll));
  EXPECT_EQ(h.command(kCtrlRx, kCtrlRxPromisc, {0}), kCtrlOk);
  EXPECT_EQ(h.command(kCtrlVlan, kCtrlVlanAdd, {10, 0}), kCtrlOk);
  EXPECT_EQ(h.command(kCtrlVlan, kCtrlVlanAdd, {0x00, 0x10}), kCtrlErr);  // 4096
  const auto tagged = [&](uint16_t vid) {
    auto f = framed(10, kGuestMac, 64);
    f[10 + 12] = 0x81;
    f[10 + 13] = 0x00;
    f[10 + 14] = static_cast<uint8_t>(vid >> 8);
    f[10 + 15] = static_cast<uint8_t>(vid);
    return f;
  };
  for (uint64_t i = 0; i < 4; ++i) h.post_rx(kData + i * 2048, 1526, i == 3);
  h.host_send(tagged(11));
  h.host_send(tagged(10));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.read(kData + 10 + 15, 1)[0], 10);
  EXPECT_EQ(h.command(kCtrlVlan, kCtrlVlanDel, {10, 0}), kCtrlOk);
  h.host_send(tagged(10));
  h.host_send(framed(10, kGuestMac, 64));  // untagged: always in
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 2; }));
  EXPECT_EQ(h.device->counters().rx_filtered, 2u);
}

TEST(VirtioNetControl, MacAddrSetChangesTheMacTheFilterUses) {
  NetHarness h;
  ASSERT_TRUE(h.activate(kCtrlAll));
  const MacAddress fresh{0x02, 0xab, 0xcd, 0, 0, 7};
  EXPECT_EQ(h.command(kCtrlMac, kCtrlMacAddrSet, mac_bytes(fresh)), kCtrlOk);
  EXPECT_EQ(h.device->mac(), fresh);
  EXPECT_EQ(h.command(kCtrlRx, kCtrlRxPromisc, {0}), kCtrlOk);
  h.post_rx(kData, 1526);
  h.host_send(framed(10, kGuestMac, 60));  // the old address: filtered
  h.host_send(framed(10, fresh, 60));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
  EXPECT_EQ(h.read(kData + 10, 6), mac_bytes(fresh));
  // A device reset brings back the configured MAC.
  h.device->reset();
  EXPECT_EQ(h.device->mac(), kGuestMac);
}

TEST(VirtioNetControl, GuestOffloadsReachTheTap) {
  NetHarness h;
  ASSERT_TRUE(h.activate(kCtrlAll));
  EXPECT_EQ(h.state->offloads.load(), kOffloadCsum | kOffloadTso4 | kOffloadTso6);
  std::vector<uint8_t> off(8, 0);
  EXPECT_EQ(h.command(kCtrlGuestOffloads, kCtrlGuestOffloadsSet, off), kCtrlOk);
  EXPECT_EQ(h.state->offloads.load(), 0u);
  off[0] = static_cast<uint8_t>(feature(kFGuestCsum) | feature(kFGuestTso4));
  EXPECT_EQ(h.command(kCtrlGuestOffloads, kCtrlGuestOffloadsSet, off), kCtrlOk);
  EXPECT_EQ(h.state->offloads.load(), kOffloadCsum | kOffloadTso4);
  off[1] = static_cast<uint8_t>(feature(kFGuestUfo) >> 8);  // never negotiated
  EXPECT_EQ(h.command(kCtrlGuestOffloads, kCtrlGuestOffloadsSet, off), kCtrlErr);
  EXPECT_EQ(h.state->offloads.load(), kOffloadCsum | kOffloadTso4);
}

TEST(VirtioNetControl, AnnounceIsRaisedAndAcked) {
  NetHarness h;
  EXPECT_FALSE(h.device->announce());  // inactive
  ASSERT_TRUE(h.activate(kCtrlAll));
  EXPECT_TRUE(h.device->announce());
  EXPECT_EQ(h.interrupt.config.load(), 1);
  EXPECT_EQ(h.device->status(), kStatusLinkUp | kStatusAnnounce);
  EXPECT_EQ(h.command(kCtrlAnnounce, kCtrlAnnounceAck, {}), kCtrlOk);
  EXPECT_EQ(h.device->status(), kStatusLinkUp);
  NetHarness without;
  ASSERT_TRUE(without.activate(base_features()));
  EXPECT_FALSE(without.device->announce());
  EXPECT_EQ(without.interrupt.config.load(), 0);
}

TEST(VirtioNetControl, MalformedAndUnknownCommandsFailWithoutHarm) {
  NetHarness h;
  ASSERT_TRUE(h.activate(kCtrlAll));
  EXPECT_EQ(h.command(kCtrlRx, kCtrlRxPromisc, {}), kCtrlErr);                 // no on/off byte
  EXPECT_EQ(h.command(kCtrlMac, kCtrlMacTableSet, {200, 0, 0, 0, 1}), kCtrlErr);  // 200 entries in 1 byte
  EXPECT_EQ(h.command(kCtrlMac, kCtrlMacTableSet, {0xff, 0xff, 0xff, 0xff}), kCtrlErr);
  EXPECT_EQ(h.command(4, 0, {1, 0}), kCtrlErr);  // multiqueue: not offered
  EXPECT_EQ(h.command(77, 3, {}), kCtrlErr);
  EXPECT_GE(h.device->guest_errors().count(), 3u);
  // No status byte at all: the chain comes back with length 0.
  h.write(kData, {kCtrlRx, kCtrlRxPromisc, 0});
  h.ctrl.add({{kData, 3}});
  h.ctrl_notify.signal();
  ASSERT_TRUE(eventually([&] { return h.ctrl.used_idx() == 6; }));
  EXPECT_EQ(h.ctrl.used(5).len, 0u);
  // A table overflowing 64 entries lets every unicast frame in.
  std::vector<uint8_t> big{70, 0, 0, 0};
  for (int i = 0; i < 70; ++i) big.insert(big.end(), {0x02, 0, 0, 0, 1, static_cast<uint8_t>(i)});
  big.insert(big.end(), {0, 0, 0, 0});
  EXPECT_EQ(h.command(kCtrlRx, kCtrlRxPromisc, {0}), kCtrlOk);
  EXPECT_EQ(h.command(kCtrlMac, kCtrlMacTableSet, big), kCtrlOk);
  h.post_rx(kData + 64 * KiB, 1526);
  h.host_send(framed(10, {0x02, 0x77, 0, 0, 0, 1}, 60));
  ASSERT_TRUE(eventually([&] { return h.rx.used_idx() == 1; }));
}

}  // namespace
}  // namespace kiln::virtio::net::test
