// Network interface configuration: --net parsing, the checks every source shares, the snapshot
// encoding, and `kiln restore --net-tap ID=NAME`.
#include <gtest/gtest.h>

#include "config/net_config.h"
#include "config/vm_config_codec.h"

namespace kiln {
namespace {

TEST(NetConfig, ParsesNetSpecs) {
  auto plain = parse_net_spec("tap=tap0", 0);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->id, "net0");
  EXPECT_EQ(plain->host_dev_name, "tap0");
  EXPECT_FALSE(plain->guest_mac);
  auto full = parse_net_spec("tap=kt1,mac=06:00:ac:10:00:02,id=eth1", 3);
  ASSERT_TRUE(full) << full.error().message;
  EXPECT_EQ(full->id, "eth1");
  EXPECT_EQ(full->guest_mac, "06:00:ac:10:00:02");
  for (const char* bad : {"", "mac=06:00:ac:10:00:02", "tap=", "tap=x,speed=10", "tap=a/b", "tap=tap0,mac=zz",
                          "tap=tap0,id=", "tap=sixteen-chars-xx"}) {
    auto r = parse_net_spec(bad, 0);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().message.rfind("--net", 0), 0u) << r.error().message;
    }
  }
}

TEST(NetConfig, IdsAndTapsAreUnique) {
  std::vector<NetConfig> nets = {{"net0", "tap0", std::nullopt}, {"net1", "tap1", std::nullopt}};
  EXPECT_TRUE(check_net_configs(nets));
  nets[1].host_dev_name = "tap0";
  EXPECT_FALSE(check_net_configs(nets));
  nets[1] = {"net0", "tap1", std::nullopt};
  EXPECT_FALSE(check_net_configs(nets));
  std::vector<NetConfig> many;
  for (size_t i = 0; i <= kMaxNets; ++i) many.push_back({fmt::format("n{}", i), fmt::format("t{}", i), std::nullopt});
  EXPECT_FALSE(check_net_configs(many));
}

TEST(NetConfig, DerivedMacIsStableAndLocal) {
  const NetConfig a{"net0", "tap0", std::nullopt};
  EXPECT_EQ(effective_mac(a), effective_mac(a));
  EXPECT_NE(effective_mac(a), effective_mac(NetConfig{"net0", "tap1", std::nullopt}));
  EXPECT_EQ(effective_mac(NetConfig{"net0", "tap0", "06:00:AC:10:00:02"}), "06:00:ac:10:00:02");
  const std::string mac = effective_mac(a);
  EXPECT_EQ(std::stoi(mac.substr(0, 2), nullptr, 16) & 3, 2);
}

TEST(NetConfig, SnapshotCodecRoundTripAndOldSnapshots) {
  VmConfig c;
  c.kernel_path = "/k";
  c.nets = {{"eth0", "tap0", "06:00:ac:10:00:02"}, {"net1", "tap1", std::nullopt}};
  snapshot::Encoder out;
  encode_vm_config(out, c);
  snapshot::Decoder in(out.data(), "config");
  auto back = decode_vm_config(in);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->nets.size(), 2u);
  EXPECT_EQ(back->nets[0].guest_mac, "06:00:ac:10:00:02");
  EXPECT_EQ(back->nets[1].host_dev_name, "tap1");
  EXPECT_FALSE(back->nets[1].guest_mac);
  // A snapshot from before virtio-net ends after the transport byte.
  VmConfig old = c;
  old.nets.clear();
  snapshot::Encoder o;
  encode_vm_config(o, old);
  std::vector<uint8_t> bytes = o.data();
  bytes.resize(bytes.size() - 5);  // the empty interface list and the vsock record after it
  snapshot::Decoder oin(bytes, "config");
  auto decoded = decode_vm_config(oin);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_TRUE(decoded->nets.empty());
  // Two interfaces on one tap: refused as untrusted input.
  c.nets[1].host_dev_name = "tap0";
  snapshot::Encoder dup;
  encode_vm_config(dup, c);
  snapshot::Decoder din(dup.data(), "config");
  EXPECT_FALSE(decode_vm_config(din));
}

TEST(NetConfig, RestoreMovesAnInterfaceToAnotherTapKeepingItsMac) {
  std::vector<NetConfig> nets = {{"net0", "tap0", std::nullopt}, {"eth1", "tap1", "06:00:ac:10:00:02"}};
  const std::string mac = effective_mac(nets[0]);
  auto o = parse_net_tap_override("net0=tap5");
  ASSERT_TRUE(o);
  ASSERT_TRUE(apply_net_taps(nets, std::vector{*o}));
  EXPECT_EQ(nets[0].host_dev_name, "tap5");
  EXPECT_EQ(effective_mac(nets[0]), mac);
  auto unknown = apply_net_taps(nets, std::vector<NetTapOverride>{{"net9", "tap9"}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no network interface 'net9' (its interfaces are net0, eth1)"), std::string::npos)
      << unknown.error().message;
  EXPECT_FALSE(apply_net_taps(nets, std::vector<NetTapOverride>{{"net0", "tap1"}}));  // tap1 is eth1's
  EXPECT_FALSE(parse_net_tap_override("net0"));
  EXPECT_FALSE(parse_net_tap_override("=tap0"));
}

}  // namespace
}  // namespace kiln
