// probe=vsock: virtio-vsock (device ID 19) driven packet by packet (drivers/virtio/vsock.h,
// vsock_port.h) against host listeners on "<uds>_<port>" (tests/probe/probe_vsock_test.cpp).
// Checks (virtio 1.1, 5.10):
//   vsock.found, .negotiate, .queue, .driver_ok   bring-up of rx, tx and event queues
//   vsock.cid          guest_cid in the configuration space is valid (and vsock.cid= if given)
//   vsock.sync_start / sync_mid / sync_end   (vsock.sync_port) a stream to the host's sync
//                      listener, which counts kiln's open fds at that moment
//   vsock.connect .. vsock.credit_lie: vsock_streams.cpp
//   vsock.connect      vsock.streams REQUESTs to vsock.port at once, each answered by RESPONSE
//   vsock.echo         vsock.bytes per stream out (interleaved) and back intact
//   vsock.credit_request   CREDIT_REQUEST answered by CREDIT_UPDATE: buf_alloc > 0, fwd_cnt = all
//                      bytes sent (the host has them)
//   vsock.shutdown     SHUTDOWN both on every stream but one: each ends with the device's RST
//   vsock.half_close   SHUTDOWN SEND after more data: the echo arrives, then the device's
//                      SHUTDOWN (SEND set), then the stream ends (5.10.6.4)
//   vsock.rw_closed    RW on a stream that ended: RST
//   vsock.credit       (vsock.burst_port) the host sends vsock.burst_bytes; the guest advertises
//                      buf_alloc vsock.credit and grants more only by CREDIT_UPDATE: the device never
//                      has more than buf_alloc bytes unacknowledged, stops there, and sends the rest
//   vsock.credit_lie   (vsock.sink_port, a host that never reads) RW beyond the device's credit:
//                      the device resets the stream
//   vsock.<hostile>    vsock_hostile.cpp
//   vsock.reset        Status 0 with a stream open, then a fresh bring-up; vsock.after_reset: echo
//   vsock.event_quiet  no event (TRANSPORT_RESET comes only after a restore)
//   vsock.rings        every rx completion a well-formed packet, tx used lengths 0, every header
//                      from CID 2 to the guest's CID, type STREAM
//   vsock.no_stray     no packet for a stream the guest does not have
// PROBE result vsock.guest_errors expected=N: the malformed packets sent that a device counts.
#include "probe/scenarios/vsock_scenario.h"

namespace kiln::probe {
namespace {

bool read_params(const Context& ctx, VsockParams& p) {
  uint64_t v[11];
  if (!ctx.number_in("vsock.port", 5000, 1, 0xffffffffu, v[0]) ||
      !ctx.number_in("vsock.burst_port", 0, 0, 0xffffffffu, v[1]) ||
      !ctx.number_in("vsock.burst_bytes", 16384, 1, 1u << 20, v[2]) ||
      !ctx.number_in("vsock.sink_port", 0, 0, 0xffffffffu, v[3]) ||
      !ctx.number_in("vsock.sync_port", 0, 0, 0xffffffffu, v[4]) ||
      !ctx.number_in("vsock.streams", 4, 2, kVsockMaxStreams, v[5]) ||
      !ctx.number_in("vsock.bytes", 3000, 1, 32768, v[6]) ||
      !ctx.number_in("vsock.credit", 4096, 1024, 65536, v[7]) ||
      !ctx.number_in("vsock.flood", 1000, 0, 65536, v[8]) ||
      !ctx.number_in("vsock.flood_port", 20000, 1, 0xffffffffu - 16, v[9]) ||
      !ctx.number_in("vsock.cid", 0, 0, vs::kMaxGuestCid, v[10])) {
    return false;
  }
  p.port = static_cast<uint32_t>(v[0]);
  p.burst_port = static_cast<uint32_t>(v[1]);
  p.burst_bytes = static_cast<uint32_t>(v[2]);
  p.sink_port = static_cast<uint32_t>(v[3]);
  p.sync_port = static_cast<uint32_t>(v[4]);
  p.streams = static_cast<uint32_t>(v[5]);
  p.bytes = static_cast<uint32_t>(v[6]);
  p.credit = static_cast<uint32_t>(v[7]);
  p.flood = static_cast<uint32_t>(v[8]);
  p.flood_port = static_cast<uint32_t>(v[9]);
  p.cid = v[10];
  return true;
}

// The host's sync listener counts kiln's fds when the stream arrives and answers "fds=N\n".
void sync(VsockRun& run, Text name, Text phase) {
  begin_check(name);
  VsockStream s;
  run.init(s, run.params().sync_port, 0);
  char line[32];
  uint32_t got = 0;
  bool ended = false;
  const bool opened = run.open(s);
  if (opened) {
    auto claim = [&](const VsockPacket& p) {
      if (p.h.op != vs::kOpRw || p.h.dst_port != s.local || p.h.src_port != s.peer) return false;
      for (uint32_t i = 0; i < p.h.len && got < sizeof line; ++i) line[got++] = static_cast<char>(p.data[i]);
      s.rx += p.h.len;
      return true;
    };
    (void)run.pump_with([&] { return (got > 0 && line[got - 1] == '\n') || got == sizeof line || s.rsts > 0; }, claim);
    ended = run.close(s);
  }
  run.untrack(s);
  const bool ok = opened && got > 0 && line[got - 1] == '\n' && ended;
  result(name, "phase=", phase, " host=", Text{line, ok ? got - 1 : 0});
  check(name, ok, "opened=", dec(opened ? 1 : 0), " bytes=", dec(got), " closed=", dec(ended ? 1 : 0));
}

// Static, not on the 16 KiB ring-3 stack (its buffer table is 5 KiB); constant-initialised.
VsockPort g_port;

}  // namespace

void run_vsock(const Context& ctx) {
  VsockParams p;
  if (!read_params(ctx, p)) return;
  VirtioMmioDevice where;
  if (!find_virtio_mmio(ctx.cmdline, vs::kDeviceId, where)) {
    fail("vsock.found", "no virtio-mmio device with ID 19 among the virtio_mmio.device= entries");
    return;
  }
  info("vsock device base=", hex(where.base), " irq=", dec(where.irq));
  pass("vsock.found");
  Mmio t(MmioRegisters{where.base});
  driver::Arena arena = dma_arena();
  VsockPort& port = g_port;
  if (!port.up(t, arena, false)) return;
  const uint64_t cid = port.cid();
  result("vsock.cid", "cid=", dec(cid));
  check("vsock.cid", cid >= vs::kMinGuestCid && cid <= vs::kMaxGuestCid && (p.cid == 0 || cid == p.cid), "cid=",
        dec(cid), " expected=", dec(p.cid));
  auto big = arena.allocate(vs::kMaxPayload, 64);
  if (!big) return (void)fail("vsock.memory", "out of DMA memory");

  VsockRun run(p, port);
  if (p.sync_port != 0) sync(run, "vsock.sync_start", "start");
  run_vsock_streams(run, big.value());
  run_vsock_hostile(run);
  if (p.sync_port != 0) sync(run, "vsock.sync_mid", "mid");

  // Status 0 with a stream open closes its host socket; the device then works as new.
  begin_check("vsock.reset");
  VsockStream open_one;
  run.init(open_one, p.port, 77);
  const bool opened = run.open(open_one);
  run.untrack(open_one);
  uint32_t malformed = port.rx_malformed();
  uint32_t tx_bad = port.tx_bad_len();
  const uint32_t events = port.events();
  t.reset();
  const uint8_t status = t.status();
  const uint32_t pfn = t.queue_pfn(0);
  const bool again = port.up(t, arena, true);
  check("vsock.reset", opened && status == 0 && pfn == 0 && again, "opened=", dec(opened ? 1 : 0), " status=",
        hex(status), " pfn=", hex(pfn), " up=", dec(again ? 1 : 0));
  if (again) {
    const char* why = run.echo_stream(78, 1000);
    check("vsock.after_reset", *why == '\0', "failed at ", why);
    if (p.sync_port != 0) sync(run, "vsock.sync_end", "end");
    malformed += port.rx_malformed();
    tx_bad += port.tx_bad_len();
  }
  const uint32_t all_events = events + port.events();
  check("vsock.event_quiet", all_events == 0, "events=", dec(all_events));
  result("vsock.packets", "received=", dec(run.packets()), " strays=", dec(run.strays()), " bad_headers=",
         dec(run.bad_headers()), " rx_malformed=", dec(malformed), " tx_used_len_not_0=", dec(tx_bad));
  check("vsock.rings", malformed == 0 && tx_bad == 0 && run.bad_headers() == 0, "rx_malformed=", dec(malformed),
        " tx_bad_len=", dec(tx_bad), " bad_headers=", dec(run.bad_headers()));
  check("vsock.no_stray", run.strays() == 0, "strays=", dec(run.strays()));
  result("vsock.guest_errors", "expected=", dec(run.expected_errors));
  t.reset();  // closes whatever is left
}

}  // namespace kiln::probe
