// probe=net: virtio-net (device ID 1) through drivers/virtio/net.h, against the peer on the tap's
// host side (tests/support/net_echo.cpp). On virtio-mmio (default) or legacy virtio-PCI
// (net.transport=pci: the first function with PCI device ID 0x1000). Checks:
//   net.found, .negotiate, .queue, .driver_ok   bring-up (receiveq, transmitq, controlq if CTRL_VQ)
//   net.mac        the config MAC is net.mac= (if given) and a unicast address
//   net.link       STATUS offered: the link is up
//   net.echo       net.frames frames of 60..1514 bytes go out and each comes back from the peer
//                  intact, with the header the tap got (flags 0, no GSO); receive headers have
//                  no GSO and, with MRG_RXBUF, num_buffers 1
//   net.tx_csum    CSUM: a frame sent with NEEDS_CSUM (csum_start 14, csum_offset 8) reaches the
//                  tap with that header, or with the checksum filled in (mode=passed|computed)
//   net.rx_csum    a frame the peer sends with NEEDS_CSUM arrives with that header (GUEST_CSUM:
//                  mode=partial) or with the right checksum in it (mode=full)
//   net.promisc_off, net.promisc_on   CTRL_RX: with promiscuous mode off a frame to another
//                  unicast MAC is not delivered (the peer's next frame, to us, comes first); on,
//                  it is; both commands acked OK
//   net.ctrl_unknown   CTRL_VQ: an unknown class is acked with VIRTIO_NET_ERR
//   net.bad.<case> a bad transmit chain (short_hdr: 4 bytes; oversize: a 64 KiB + 64 frame;
//                  out_of_ram: a descriptor far above RAM) leaves the VMM running and the device
//                  then echoes a frame, without a reset (reset=0) or after one (reset=1)
//   net.reset      Status 0 resets the device
// Lines: PROBE result net.features, net.mac mac=, net.echo frames= skipped=, net.tx_csum mode=,
// net.rx_csum mode=, net.bad.<case> used= reset=. Parameters: net.transport=mmio|pci, net.mac=
// (aa:bb:..), net.frames=16, net.mrg=1, net.csum=1 (CSUM), net.guest_csum=1, net.ctrl=1 (CTRL_VQ +
// CTRL_RX), net.bad=1, net.queue_size=256, net.pps=0 (> 0: net_bench.cpp instead).
#include "probe/scenarios/net_scenario.h"

#include "probe/lib/pci.h"

namespace kiln::probe {
namespace {

constexpr uint8_t kForeignMac[6] = {0x02, 0x6b, 0x69, 0x6c, 0x6e, 0x99};

bool parse_mac(Text s, uint8_t out[6]) {
  if (s.size != 17) return false;
  for (uint32_t i = 0; i < 6; ++i) {
    uint8_t v = 0;
    for (uint32_t j = 0; j < 2; ++j) {
      const char c = s.data[i * 3 + j];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = static_cast<uint8_t>(v * 16 + d);
    }
    out[i] = v;
    if (i < 5 && s.data[i * 3 + 2] != ':') return false;
  }
  return true;
}

template <class T>
void check_mac(const Context& ctx, NetPort<T>& port) {
  uint8_t m[6];
  port.mac(m);
  result("net.mac", "mac=", MacText(m));
  uint8_t want[6];
  const Text given = ctx.text("net.mac", "");
  if (given.size != 0 && !parse_mac(given, want)) {
    fail("params", "net.mac=", given);
    return;
  }
  bool same = true;
  for (uint32_t i = 0; i < 6; ++i) same = same && (given.size == 0 || m[i] == want[i]);
  check("net.mac", same && (m[0] & 1) == 0, "mac=", MacText(m), " expected=", given.size != 0 ? given : Text{"unicast"});
}

template <class T>
bool echo_once(NetPort<T>& port, uint32_t seq, uint64_t cycles = kWaitCycles) {
  if (!port.request(kOpEcho, 0, seq, 46)) return false;
  NetFrame f;
  uint32_t skipped = 0;
  while (port.receive_reply(kOpEcho, f, skipped, cycles)) {
    uint32_t got = 0;
    __builtin_memcpy(&got, f.data + 18, 4);
    if (got == seq) return true;
  }
  return false;
}

template <class T>
void check_echo(NetPort<T>& port, uint32_t frames) {
  begin_check("net.echo");
  uint32_t skipped = 0;
  uint32_t bad = 0;
  uint32_t got = 0;
  uint32_t bad_hdr = 0;
  for (uint32_t s = 0; s < frames; ++s) {
    // 60 .. 1514 bytes on the wire: data = len - 14 - 8.
    const uint32_t len = frames > 1 ? net::kMinFrame + (net::kMaxFrame - net::kMinFrame) * s / (frames - 1) : 100;
    if (!port.request(kOpEcho, 0, 1000 + s, len - kEth - 8)) return (void)fail("net.echo", "transmit ", dec(s), " failed");
    NetFrame f;
    if (!port.receive_reply(kOpEcho, f, skipped)) {
      return (void)fail("net.echo", "no reply to frame ", dec(s), " len=", dec(len), " skipped=", dec(skipped));
    }
    ++got;
    uint32_t seq = 0;
    __builtin_memcpy(&seq, f.data + 18, 4);
    const uint8_t* tap_hdr = f.data + kEth + 8;  // what the tap got from the VMM
    // The reply is 12 bytes longer than the request, cut at 1514 bytes (the tap's MTU).
    const uint32_t want = len + 12 < net::kMaxFrame ? len + 12 : net::kMaxFrame;
    bool ok = seq == 1000 + s && f.len == want && tap_hdr[0] == 0 && tap_hdr[1] == 0;
    for (uint32_t i = 0; ok && i < want - kEth - 20; ++i) ok = f.data[kEth + 20 + i] == NetPort<T>::pattern(seq, i);
    if (!ok) ++bad;
    if (f.hdr.gso_type != net::kGsoNone || (port.has(net::kFeatureMrgRxbuf) && f.hdr.num_buffers != 1)) ++bad_hdr;
  }
  const uint32_t done = port.reap_tx();
  result("net.echo", "frames=", dec(got), " skipped=", dec(skipped), " bad=", dec(bad), " bad_rx_hdr=", dec(bad_hdr),
         " tx_reaped=", dec(done));
  check("net.echo", got == frames && bad == 0 && bad_hdr == 0, "bad=", dec(bad), " bad_rx_hdr=", dec(bad_hdr));
}

template <class T>
void check_tx_csum(NetPort<T>& port) {
  begin_check("net.tx_csum");
  net::NetHeader h{};
  h.flags = net::kHdrNeedsCsum;
  h.csum_start = kEth;
  h.csum_offset = 8;  // data bytes 0..1: the pattern leaves them 0 (the seed, no pseudo-header)
  if (!port.request(kOpEcho, 0, 77, 200, h)) return (void)fail("net.tx_csum", "transmit failed");
  NetFrame f;
  uint32_t skipped = 0;
  if (!port.receive_reply(kOpEcho, f, skipped)) return (void)fail("net.tx_csum", "no reply");
  const uint8_t* tap_hdr = f.data + kEth + 8;
  uint16_t start = 0;
  uint16_t offset = 0;
  __builtin_memcpy(&start, tap_hdr + 6, 2);
  __builtin_memcpy(&offset, tap_hdr + 8, 2);
  if ((tap_hdr[0] & net::kHdrNeedsCsum) != 0) {
    result("net.tx_csum", "mode=passed flags=", hex(tap_hdr[0]), " csum_start=", dec(start), " csum_offset=", dec(offset));
    check("net.tx_csum", start == kEth && offset == 8, "csum_start=", dec(start), " csum_offset=", dec(offset));
    return;
  }
  // Filled in before the tap: the payload as sent (op, arg, 0, 0, seq, data) must sum to 0 with the
  // checksum at payload offset 8; the reply carries the payload's bytes 8.. (data) after the header.
  uint8_t payload[8 + 200];
  payload[0] = kOpEcho;
  payload[1] = 0;
  payload[2] = 0;
  payload[3] = 0;
  const uint32_t seq = 77;
  __builtin_memcpy(payload + 4, &seq, 4);
  for (uint32_t i = 0; i < 200; ++i) payload[8 + i] = f.data[kEth + 20 + i];
  result("net.tx_csum", "mode=computed flags=", hex(tap_hdr[0]));
  check("net.tx_csum", net::internet_checksum(payload, sizeof payload) == 0, "the checksum does not verify");
}

template <class T>
void check_rx_csum(NetPort<T>& port) {
  begin_check("net.rx_csum");
  if (!port.request(kOpPartial, 0, 88, 0)) return (void)fail("net.rx_csum", "transmit failed");
  NetFrame f;
  uint32_t skipped = 0;
  if (!port.receive_reply(kOpPartial, f, skipped) || f.len < kEth + 72) return (void)fail("net.rx_csum", "no reply");
  const uint8_t* payload = f.data + kEth;
  const uint32_t plen = f.len - kEth < 72 ? f.len - kEth : 72;  // the peer's payload; the rest is padding
  if ((f.hdr.flags & net::kHdrNeedsCsum) != 0) {
    result("net.rx_csum", "mode=partial csum_start=", dec(f.hdr.csum_start), " csum_offset=", dec(f.hdr.csum_offset));
    check("net.rx_csum", port.has(net::kFeatureGuestCsum) && f.hdr.csum_start == kEth && f.hdr.csum_offset == 8 &&
                             payload[8] == 0 && payload[9] == 0,
          "csum_start=", dec(f.hdr.csum_start), " csum_offset=", dec(f.hdr.csum_offset), " guest_csum=",
          dec(port.has(net::kFeatureGuestCsum) ? 1 : 0));
    return;
  }
  result("net.rx_csum", "mode=full flags=", hex(f.hdr.flags));
  check("net.rx_csum", net::internet_checksum(payload, plen) == 0, "the checksum field is wrong");
}

// Promiscuous mode off: the frame to another MAC must not come, so the peer's second frame (to us)
// is the first reply; on: the foreign frame comes first.
template <class T>
void check_promisc(NetPort<T>& port, bool on) {
  const Text name = on ? Text{"net.promisc_on"} : Text{"net.promisc_off"};
  begin_check(name);
  const uint8_t mode = on ? 1 : 0;
  const uint8_t ack = port.control(net::kCtrlRx, net::kCtrlRxPromisc, &mode, 1);
  if (ack != net::kCtrlOk) return (void)fail(name, "ack=", dec(ack));
  if (!port.request(kOpFilter, 0, on ? 301 : 300, 0)) return (void)fail(name, "transmit failed");
  NetFrame f;
  uint32_t skipped = 0;
  if (!port.receive_reply(kOpFilter, f, skipped)) return (void)fail(name, "no reply");
  const bool foreign = f.data[15] == 1;
  bool to_foreign_mac = true;
  for (uint32_t i = 0; i < 6; ++i) to_foreign_mac = to_foreign_mac && f.data[i] == kForeignMac[i];
  if (on && foreign) {
    // Take the second one too, so that the next check starts clean.
    NetFrame g;
    (void)port.receive_reply(kOpFilter, g, skipped);
  }
  check(name, on ? (foreign && to_foreign_mac) : !foreign, "first_reply_arg=", dec(f.data[15]));
}

template <class T>
void check_bad(NetPort<T>& port, driver::Arena& arena, uint64_t wanted, uint16_t queue_size) {
  auto big = arena.allocate(12 + 65536 + 64, 64);
  if (!big) return (void)fail("net.bad", "out of DMA memory");
  const char* names[3] = {"net.bad.short_hdr", "net.bad.oversize", "net.bad.out_of_ram"};
  for (uint32_t k = 0; k < 3; ++k) {
    const Text name{names[k], __builtin_strlen(names[k])};
    begin_check(name);
    driver::Segment segs[2];
    uint16_t n = 1;
    if (k == 0) {
      segs[0] = {big->phys, 4};
    } else if (k == 1) {
      for (uint32_t i = 0; i < 12; ++i) big->host[i] = 0;
      segs[0] = {big->phys, port.header_bytes()};
      segs[1] = {big->phys + 12, 65536 + 64};
      n = 2;
    } else {
      segs[0] = {uint64_t{1} << 40, 64};
    }
    bool used = false;
    while (port.tx().ring().in_flight() != 0 && port.reap_tx() != 0) {
    }
    if (port.tx().add(segs, n, 0, 0xbad0 + k).ok()) {
      port.tx().kick();
      driver::Completion c;
      const uint64_t start = rdtsc_ordered();
      while (!used && rdtsc_ordered() - start < kWaitCycles / 10) {
        used = port.tx().poll(c) == driver::Poll::done && c.token == 0xbad0 + k;
      }
    }
    const bool alive = port.transport().status() != 0xff;  // the VMM still answers
    bool reset = false;
    bool works = alive && (port.transport().status() & driver::kStatusNeedsReset) == 0 && echo_once(port, 500 + k, kWaitCycles / 4);
    if (!works && alive) {
      reset = true;
      works = port.up(port.transport(), arena, wanted, queue_size, true) && echo_once(port, 510 + k);
      big = arena.allocate(12 + 65536 + 64, 64);
      if (!big) return (void)fail(name, "out of DMA memory");
    }
    result(name, "used=", dec(used ? 1 : 0), " reset=", dec(reset ? 1 : 0));
    check(name, works, "alive=", dec(alive ? 1 : 0), " reset=", dec(reset ? 1 : 0));
  }
}

template <class T>
void run_with(const Context& ctx, const NetParams& p, T& t) {
  driver::Arena arena = dma_arena();
  NetPort<T> port;
  if (!port.up(t, arena, p.wanted, p.queue_size, false)) return;
  check_mac(ctx, port);
  if ((port.offered() & driver::bit(net::kFeatureStatus)) != 0) {
    const uint16_t s = t.config16(net::kConfigStatus);
    check("net.link", (s & net::kStatusLinkUp) != 0, "status=", hex(s));
  }
  if (p.pps != 0) {
    run_net_bench(port, p);
    t.reset();
    return;
  }
  check_echo(port, p.frames);
  if (port.has(net::kFeatureCsum)) check_tx_csum(port);
  check_rx_csum(port);
  if (port.has(net::kFeatureCtrlVq)) {
    if (port.has(net::kFeatureCtrlRx)) {
      check_promisc(port, false);
      check_promisc(port, true);
    }
    const uint8_t ack = port.control(0x77, 0, nullptr, 0);
    check("net.ctrl_unknown", ack == net::kCtrlErr, "ack=", dec(ack));
  }
  if (p.bad) check_bad(port, arena, p.wanted, p.queue_size);
  begin_check("net.reset");
  t.reset();
  check("net.reset", t.status() == 0, "status=", hex(t.status()));
}

}  // namespace

void run_net(const Context& ctx) {
  NetParams p;
  if (!read_net_params(ctx, p)) return;
  if (p.pci) {
    PciNet t;
    if (!find_pci_net(t)) return;
    run_with(ctx, p, t);
    return;
  }
  VirtioMmioDevice where;
  if (!find_virtio_mmio(ctx.cmdline, driver::kDeviceNet, where)) {
    fail("net.found", "no virtio-mmio device with ID 1 among the virtio_mmio.device= entries");
    return;
  }
  info("net device base=", hex(where.base), " irq=", dec(where.irq));
  pass("net.found");
  Mmio t(MmioRegisters{where.base});
  run_with(ctx, p, t);
}

}  // namespace kiln::probe
