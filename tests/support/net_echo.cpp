// net_echo: the peer of kiln-probe's `net` scenario on the host side of a tap (run inside the test's
// network namespace). An AF_PACKET socket with PACKET_VNET_HDR on IFNAME, so every frame comes with
// the virtio_net_hdr the tap got from the VMM, and every frame sent carries one the VMM gets.
//
// Requests are frames of ethertype 0x88b5 (IEEE 802 local experimental 1) whose payload starts
//   u8 op, u8 arg, u16 reserved, u32 seq, data...
// and the replies go back to the sender's MAC with op | 0x80:
//   op 1 echo       payload = op, arg, 0, seq, the request's virtio_net_hdr (10 bytes), 2 zero
//                   bytes, then the request's data (so the reply is 12 bytes longer, cut at
//                   1514 bytes)
//   op 2 partial    a 64-byte-data frame with NEEDS_CSUM, csum_start 14, csum_offset 8: the
//                   receiver (or the VMM) must fill in the Internet checksum of the payload at
//                   payload offset 8 (the field holds 0, no pseudo-header)
//   op 3 filter     two frames: first to 02:6b:69:6c:6e:99 (another unicast MAC, arg 1), then to
//                   the sender (arg 2)
//   op 4 sink       no reply: only counted
//   op 5 count      reply with data = u64 frames sunk since the last count, then reset
// With --arp it also prints one line per ARP frame received on IFNAME and per ICMP frame either way:
//   arp op=N sender_mac=.. sender_ip=a.b.c.d target_ip=a.b.c.d
//   icmp in|out type=N dst_mac=.. a.b.c.d->a.b.c.d
// With --inject MAC MS it also sends a 60-byte frame (ethertype 0x88b5, op 0x86) to MAC every MS
// milliseconds (the Linux tests' promiscuous-mode check: a frame for another MAC).
// It prints "net_echo ready" once the socket is bound, and runs until SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

// struct virtio_net_hdr (virtio 0.9.5 C.2.1), as PACKET_VNET_HDR passes it; <linux/virtio_net.h>
// is not C++ (a member is called `class`).
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(virtio_net_hdr) == 10);
constexpr uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;

constexpr uint16_t kEtherType = 0x88b5;
constexpr size_t kEth = 14;
constexpr size_t kMaxFrame = 1514;
constexpr size_t kHdr = sizeof(virtio_net_hdr);  // 10: what PACKET_VNET_HDR uses
constexpr uint8_t kForeignMac[6] = {0x02, 0x6b, 0x69, 0x6c, 0x6e, 0x99};

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Peer {
  int fd = -1;
  int ifindex = 0;
  uint8_t mac[6] = {};
  uint64_t sunk = 0;

  // Sends `frame` with the virtio_net_hdr `h` in front.
  bool send(const virtio_net_hdr& h, const std::vector<uint8_t>& frame) const {
    std::vector<uint8_t> buf(kHdr + frame.size());
    std::memcpy(buf.data(), &h, kHdr);
    std::memcpy(buf.data() + kHdr, frame.data(), frame.size());
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, frame.data(), 6);
    const ssize_t n = ::sendto(fd, buf.data(), buf.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (n < 0) std::fprintf(stderr, "net_echo: sendto: %s\n", std::strerror(errno));
    return n == static_cast<ssize_t>(buf.size());
  }
};

// An Ethernet header to `dst` from our MAC, then op|0x80, arg, 0, 0, seq.
std::vector<uint8_t> reply_head(const Peer& p, const uint8_t* dst, uint8_t op, uint8_t arg, const uint8_t* seq) {
  std::vector<uint8_t> f(kEth + 8, 0);
  std::memcpy(f.data(), dst, 6);
  std::memcpy(f.data() + 6, p.mac, 6);
  f[12] = kEtherType >> 8;
  f[13] = kEtherType & 0xff;
  f[14] = static_cast<uint8_t>(op | 0x80);
  f[15] = arg;
  std::memcpy(f.data() + 18, seq, 4);
  return f;
}

void handle_request(Peer& p, const virtio_net_hdr& h, const uint8_t* frame, size_t len) {
  if (len < kEth + 8) return;
  const uint8_t* src = frame + 6;
  const uint8_t op = frame[14];
  const uint8_t* seq = frame + 18;
  const virtio_net_hdr none{};
  switch (op) {
    case 1: {
      std::vector<uint8_t> f = reply_head(p, src, op, frame[15], seq);
      const auto* hb = reinterpret_cast<const uint8_t*>(&h);
      f.insert(f.end(), hb, hb + kHdr);
      f.insert(f.end(), 2, 0);
      f.insert(f.end(), frame + kEth + 8, frame + len);
      if (f.size() > kMaxFrame) f.resize(kMaxFrame);  // the tap's MTU: the last 12 bytes are cut
      p.send(none, f);
      break;
    }
    case 2: {
      std::vector<uint8_t> f = reply_head(p, src, op, 0, seq);
      for (uint8_t i = 0; i < 64; ++i) f.push_back(static_cast<uint8_t>(0xa5 ^ (i * 7)));
      virtio_net_hdr partial{};
      partial.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      partial.csum_start = kEth;
      partial.csum_offset = 8;
      // The checksum field (payload offset 8..9) stays 0: the seed (no pseudo-header).
      f[kEth + 8] = 0;
      f[kEth + 9] = 0;
      p.send(partial, f);
      break;
    }
    case 3:
      p.send(none, reply_head(p, kForeignMac, op, 1, seq));
      p.send(none, reply_head(p, src, op, 2, seq));
      break;
    case 4:
      ++p.sunk;
      break;
    case 5: {
      std::vector<uint8_t> f = reply_head(p, src, op, 0, seq);
      const auto* c = reinterpret_cast<const uint8_t*>(&p.sunk);
      f.insert(f.end(), c, c + 8);
      p.sunk = 0;
      p.send(none, f);
      break;
    }
    default:
      break;
  }
}

void print_arp(const uint8_t* frame, size_t len) {
  if (len < kEth + 28) return;
  const uint8_t* a = frame + kEth;
  const uint8_t* smac = a + 8;
  std::printf("arp op=%u sender_mac=%02x:%02x:%02x:%02x:%02x:%02x sender_ip=%u.%u.%u.%u target_ip=%u.%u.%u.%u\n",
              (a[6] << 8) | a[7], smac[0], smac[1], smac[2], smac[3], smac[4], smac[5], a[14], a[15], a[16], a[17],
              a[24], a[25], a[26], a[27]);
  std::fflush(stdout);
}

// ICMP over IPv4 in either direction ("out": sent by the host's stack), with the Ethernet destination.
void print_icmp(const uint8_t* frame, size_t len, bool outgoing) {
  if (len < kEth + 20 + 8 || frame[kEth + 9] != 1) return;
  const uint8_t* ip = frame + kEth;
  const uint8_t* icmp = ip + (ip[0] & 0x0f) * 4;
  if (icmp + 8 > frame + len) return;
  std::printf("icmp %s type=%u dst_mac=%02x:%02x:%02x:%02x:%02x:%02x %u.%u.%u.%u->%u.%u.%u.%u\n", outgoing ? "out" : "in",
              icmp[0], frame[0], frame[1], frame[2], frame[3], frame[4], frame[5], ip[12], ip[13], ip[14], ip[15], ip[16],
              ip[17], ip[18], ip[19]);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: net_echo IFNAME [--arp]\n");
    return 2;
  }
  bool arp = false;
  bool inject = false;
  uint8_t inject_mac[6] = {};
  int inject_ms = 0;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--arp") == 0) {
      arp = true;
    } else if (std::strcmp(argv[i], "--inject") == 0 && i + 2 < argc) {
      unsigned m[6];
      if (std::sscanf(argv[i + 1], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) return 2;
      for (int k = 0; k < 6; ++k) inject_mac[k] = static_cast<uint8_t>(m[k]);
      inject_ms = std::atoi(argv[i + 2]);
      inject = inject_ms > 0;
      i += 2;
    } else {
      std::fprintf(stderr, "net_echo: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  Peer p;
  p.ifindex = static_cast<int>(::if_nametoindex(argv[1]));
  if (p.ifindex == 0) {
    std::fprintf(stderr, "net_echo: no interface %s\n", argv[1]);
    return 1;
  }
  p.fd = ::socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  const int one = 1;
  if (p.fd < 0 || ::setsockopt(p.fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0) {
    std::fprintf(stderr, "net_echo: AF_PACKET socket: %s\n", std::strerror(errno));
    return 1;
  }
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_ALL);
  at.sll_ifindex = p.ifindex;
  if (::bind(p.fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0) {
    std::fprintf(stderr, "net_echo: bind %s: %s\n", argv[1], std::strerror(errno));
    return 1;
  }
  // Our MAC: the tap's own address (from /sys, no ioctl needed).
  char path[96];
  std::snprintf(path, sizeof path, "/sys/class/net/%s/address", argv[1]);
  if (FILE* f = std::fopen(path, "r")) {
    unsigned m[6] = {};
    if (std::fscanf(f, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6) {
      for (int i = 0; i < 6; ++i) p.mac[i] = static_cast<uint8_t>(m[i]);
    }
    std::fclose(f);
  }
  struct sigaction sa{};
  sa.sa_handler = on_signal;  // no SA_RESTART: recvfrom returns EINTR
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  std::printf("net_echo ready %s\n", argv[1]);
  std::fflush(stdout);

  std::vector<uint8_t> buf(kHdr + 65536 + 64);
  uint32_t injected = 0;
  while (g_stop == 0) {
    if (inject) {
      pollfd pfd{p.fd, POLLIN, 0};
      if (::poll(&pfd, 1, inject_ms) == 0) {
        const uint8_t seq[4] = {static_cast<uint8_t>(injected), static_cast<uint8_t>(injected >> 8), 0, 0};
        std::vector<uint8_t> f = reply_head(p, inject_mac, 6, 0, seq);
        f.resize(60, 0);
        p.send(virtio_net_hdr{}, f);
        ++injected;
        continue;
      }
    }
    sockaddr_ll from{};
    socklen_t fl = sizeof from;
    const ssize_t n = ::recvfrom(p.fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "net_echo: recvfrom: %s\n", std::strerror(errno));
      return 1;
    }
    if (static_cast<size_t>(n) < kHdr + kEth) continue;
    const bool outgoing = from.sll_pkttype == PACKET_OUTGOING;
    virtio_net_hdr h;
    std::memcpy(&h, buf.data(), kHdr);
    const uint8_t* frame = buf.data() + kHdr;
    const size_t len = static_cast<size_t>(n) - kHdr;
    const uint16_t type = static_cast<uint16_t>((frame[12] << 8) | frame[13]);
    if (arp && type == ETH_P_IP) print_icmp(frame, len, outgoing);
    if (outgoing) continue;
    if (type == kEtherType && frame[14] < 0x80) handle_request(p, h, frame, len);
    if (arp && type == ETH_P_ARP) print_arp(frame, len);
  }
  return 0;
}
