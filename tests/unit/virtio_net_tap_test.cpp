// The real tap backend, inside a private network namespace created for the test (unshare on a
// thread of its own: the namespace and its tap vanish with it; the host's interfaces are never
// touched). Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and /dev/net/tun; skipped loudly without.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <thread>

#include "virtio/net/tap.h"
#include "virtio_net_test_util.h"

namespace kiln::virtio::net::test {
namespace {

constexpr uint16_t kEtherType = 0x88b5;  // IEEE local experimental: nothing else sends it

// Runs `body` on a thread inside a fresh network namespace; the reason when that is impossible.
std::string in_private_netns(const std::function<void()>& body) {
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "no usable /dev/net/tun";
  std::string why;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      why = fmt::format("unshare(CLONE_NEWNET): {}", std::strerror(errno));
      return;
    }
    body();
  });
  t.join();
  return why;
}

// `ip tuntap add NAME mode tap` (persistent, then detached) and `ip link set NAME up`.
void create_tap(const std::string& name, bool up = true) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(fd);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  ASSERT_EQ(::ioctl(fd.get(), TUNSETIFF, &ifr), 0) << std::strerror(errno);
  ASSERT_EQ(::ioctl(fd.get(), TUNSETPERSIST, 1), 0);
  if (!up) return;
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock);
  ifreq flags{};
  std::strncpy(flags.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ASSERT_EQ(::ioctl(sock.get(), SIOCGIFFLAGS, &flags), 0);
  flags.ifr_flags = static_cast<short>(flags.ifr_flags | IFF_UP);
  ASSERT_EQ(::ioctl(sock.get(), SIOCSIFFLAGS, &flags), 0) << std::strerror(errno);
}

// The host end: an AF_PACKET socket on the tap for kEtherType frames.
UniqueFd packet_socket(const std::string& name) {
  UniqueFd s(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(kEtherType)));
  EXPECT_TRUE(s);
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(kEtherType);
  addr.sll_ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
  EXPECT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << std::strerror(errno);
  return s;
}

std::vector<uint8_t> ether_frame(const MacAddress& dest, size_t len, uint8_t seed) {
  std::vector<uint8_t> f = framed(0, dest, len, seed);
  f[6] = 0x02;  // a unicast source
  f[12] = kEtherType >> 8;
  f[13] = kEtherType & 0xff;
  return f;
}

TEST(VirtioNetTap, OpenErrorsNameTheTapAndTheFix) {
  const std::string skipped = in_private_netns([] {
    auto missing = Tap::open("kilnnope0");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("ip tuntap add kilnnope0 mode tap"), std::string::npos) << missing.error().message;
    auto not_tap = Tap::open("lo");
    ASSERT_FALSE(not_tap);
    EXPECT_NE(not_tap.error().message.find("not a tap"), std::string::npos) << not_tap.error().message;
    EXPECT_FALSE(Tap::open("a-name-longer-than-15"));
    create_tap("kilntap0", false);
    auto first = Tap::open("kilntap0");
    ASSERT_TRUE(first) << first.error().message;
    auto second = Tap::open("kilntap0");
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("in use by another process"), std::string::npos) << second.error().message;
    EXPECT_NE(second.error().message.find("kilntap0"), std::string::npos);
  });
  if (!skipped.empty()) GTEST_SKIP() << "*** SKIPPED: no private network namespace with a tap (" << skipped << ")";
}

TEST(VirtioNetTap, FramesCrossARealTapBothWays) {
  const std::string skipped = in_private_netns([] {
    create_tap("kilntap1");
    auto tap = Tap::open("kilntap1");
    ASSERT_TRUE(tap) << tap.error().message;
    EXPECT_NE((*tap)->supported_offloads() & kOffloadTso4, 0u);
    UniqueFd host = packet_socket("kilntap1");
    NetHarness h(std::move(*tap));
    ASSERT_TRUE(h.activate(base_features() | feature(kFMrgRxbuf) | feature(kFGuestCsum) | feature(kFGuestTso4) |
                           feature(kFCsum) | feature(kFHostTso4)));
    EXPECT_EQ(h.device->tap_offloads(), kOffloadCsum | kOffloadTso4);

    // Guest to host: a 12-byte header (MRG_RXBUF) with no offload, then the frame.
    const std::vector<uint8_t> out = ether_frame({0x02, 9, 9, 9, 9, 9}, 1200, 3);
    std::vector<uint8_t> with_header(12, 0);
    with_header.insert(with_header.end(), out.begin(), out.end());
    h.guest_send(with_header);
    pollfd p{host.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    std::vector<uint8_t> got(4096);
    const ssize_t n = ::recv(host.get(), got.data(), got.size(), 0);
    ASSERT_EQ(n, static_cast<ssize_t>(out.size()));
    got.resize(static_cast<size_t>(n));
    EXPECT_EQ(got, out);
    EXPECT_TRUE(eventually([&] { return h.device->counters().tx_frames == 1; }));  // counted after writev

    // Host to guest. The new interface may send IPv6 frames of its own too: find ours.
    for (uint64_t i = 0; i < 32; ++i) h.post_rx(kData + i * 4096, 4096, i == 31);
    const std::vector<uint8_t> in = ether_frame(kGuestMac, 900, 5);
    ASSERT_EQ(::send(host.get(), in.data(), in.size(), 0), static_cast<ssize_t>(in.size()));
    bool found = false;
    ASSERT_TRUE(eventually([&] {
      for (uint16_t i = 0; i < h.rx.used_idx() && !found; ++i) {
        const UsedElement e = h.rx.used(i);
        auto bytes = h.read(kData + uint64_t{e.id} * 4096, e.len);
        found = e.len == 12 + in.size() && std::equal(in.begin(), in.end(), bytes.begin() + 12);
        if (found) {
          EXPECT_EQ(bytes[10], 1);  // num_buffers
        }
      }
      return found;
    }));
  });
  if (!skipped.empty()) GTEST_SKIP() << "*** SKIPPED: no private network namespace with a tap (" << skipped << ")";
}

}  // namespace
}  // namespace kiln::virtio::net::test
