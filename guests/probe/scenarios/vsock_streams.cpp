// probe=vsock's stream checks (vsock.cpp lists them): connect and echo on several streams at once,
// CREDIT_REQUEST, SHUTDOWN both ways and half-closed, RW on an ended stream, the device's respect of
// the guest's credit (5.10.6.3) and its answer to a guest that ignores the device's.
#include "probe/scenarios/vsock_scenario.h"

namespace kiln::probe {
namespace {

bool check_connect_and_echo(VsockRun& run, VsockStream* s, uint32_t n) {
  const VsockParams& p = run.params();
  begin_check("vsock.connect");
  for (uint32_t i = 0; i < n; ++i) run.init(s[i], p.port, i + 1);
  for (uint32_t i = 0; i < n; ++i) (void)run.control(s[i], vs::kOpRequest);
  (void)run.pump([&] {
    for (uint32_t i = 0; i < n; ++i) {
      if (s[i].responses == 0 && s[i].rsts == 0) return false;
    }
    return true;
  });
  uint32_t connected = 0;
  bool sane = true;  // RESPONSE: no payload, the device's buf_alloc
  for (uint32_t i = 0; i < n; ++i) {
    connected += s[i].connected() ? 1 : 0;
    sane = sane && s[i].last.len == 0 && s[i].peer_buf_alloc > 0;
  }
  result("vsock.connect", "streams=", dec(n), " connected=", dec(connected), " buf_alloc=", dec(s[0].peer_buf_alloc),
         " fwd_cnt=", dec(s[0].peer_fwd_cnt));
  if (!check("vsock.connect", connected == n && sane, "connected=", dec(connected), " of ", dec(n))) return false;

  begin_check("vsock.echo");
  bool sent = true;
  for (uint32_t off = 0; off < p.bytes && sent; off += kVsockTxData) {
    const uint32_t len = p.bytes - off < kVsockTxData ? p.bytes - off : kVsockTxData;
    for (uint32_t i = 0; i < n && sent; ++i) sent = run.send_data(s[i], len);
  }
  (void)run.pump([&] {
    for (uint32_t i = 0; i < n; ++i) {
      if (s[i].rx < p.bytes && s[i].rsts == 0) return false;
    }
    return true;
  });
  uint32_t complete = 0;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < n; ++i) {
    complete += s[i].rx == p.bytes && s[i].rsts == 0 ? 1 : 0;
    bad += s[i].bad_bytes;
  }
  result("vsock.echo", "streams=", dec(n), " bytes=", dec(p.bytes), " complete=", dec(complete), " bad=", dec(bad));
  return check("vsock.echo", sent && complete == n && bad == 0, "sent=", dec(sent ? 1 : 0), " complete=",
               dec(complete), " bad=", dec(bad));
}

void check_credit_request(VsockRun& run, VsockStream& s) {
  begin_check("vsock.credit_request");
  const uint32_t before = s.credit_updates;
  const bool sent = run.control(s, vs::kOpCreditRequest);
  const bool got = run.pump([&] { return s.credit_updates > before || s.rsts > 0; }) && s.credit_updates > before;
  result("vsock.credit_request", "buf_alloc=", dec(s.peer_buf_alloc), " fwd_cnt=", dec(s.peer_fwd_cnt), " sent=",
         dec(s.tx));
  check("vsock.credit_request", sent && got && s.peer_buf_alloc > 0 && s.peer_fwd_cnt == s.tx, "answered=",
        dec(got ? 1 : 0), " buf_alloc=", dec(s.peer_buf_alloc), " fwd_cnt=", dec(s.peer_fwd_cnt), " sent=", dec(s.tx));
}

// Stream 1 half-closes (check_half_close); the others close.
void check_shutdown(VsockRun& run, VsockStream* s, uint32_t n) {
  begin_check("vsock.shutdown");
  for (uint32_t i = 0; i < n; ++i) {
    if (i != 1) (void)run.control(s[i], vs::kOpShutdown, vs::kShutdownBoth);
  }
  (void)run.pump([&] {
    for (uint32_t i = 0; i < n; ++i) {
      if (i != 1 && s[i].rsts == 0) return false;
    }
    return true;
  });
  uint32_t reset = 0;
  for (uint32_t i = 0; i < n; ++i) reset += i != 1 && s[i].rsts == 1 ? 1 : 0;
  check("vsock.shutdown", reset == n - 1, "reset=", dec(reset), " of ", dec(n - 1));
}

void check_half_close(VsockRun& run, VsockStream& s) {
  begin_check("vsock.half_close");
  const bool sent = run.send_data(s, 500) && run.control(s, vs::kOpShutdown, vs::kShutdownSend);
  (void)run.pump([&] { return (s.rx >= s.tx && (s.shutdown_flags & vs::kShutdownSend) != 0) || s.rsts > 0; });
  const uint32_t flags = s.shutdown_flags;
  const bool device_rst = s.rsts > 0;
  bool ended = device_rst;
  if (!ended && flags == vs::kShutdownBoth) {
    // Both directions are over: the guest ends it with RST (as Linux does).
    ended = run.control(s, vs::kOpRst);
    run.settle();
  } else if (!ended) {
    // The host stopped sending: the guest closes, the device answers RST.
    ended = run.control(s, vs::kOpShutdown, vs::kShutdownBoth) && run.pump([&] { return s.rsts > 0; });
  }
  result("vsock.half_close", "echoed=", dec(s.rx), " sent=", dec(s.tx), " shutdown_flags=", hex(flags),
         " device_rst=", dec(s.rsts));
  check("vsock.half_close", sent && s.rx == s.tx && s.bad_bytes == 0 && (flags & vs::kShutdownSend) != 0 && ended,
        "echoed=", dec(s.rx), " sent=", dec(s.tx), " shutdown_flags=", hex(flags));
}

void check_rw_closed(VsockRun& run, VsockStream& s) {
  begin_check("vsock.rw_closed");
  const uint32_t before = s.rsts;
  const uint8_t data[10] = {};
  const bool sent = run.port().send(run.port().header(vs::kOpRw, s.local, s.peer, sizeof data), data, sizeof data);
  const bool got = run.pump([&] { return s.rsts > before; });
  check("vsock.rw_closed", sent && got, "no RST for RW on a closed stream");
}

// The device sends at most the guest's buf_alloc beyond the fwd_cnt the guest told it.
void check_credit(VsockRun& run) {
  const VsockParams& p = run.params();
  begin_check("vsock.credit");
  VsockStream s;
  run.init(s, p.burst_port, 0);
  s.buf_alloc = p.credit;
  s.auto_ack = false;
  uint32_t updates = 0;
  bool stalled = false;
  const bool opened = run.open(s);
  while (opened && s.rx < p.burst_bytes && s.rsts == 0) {
    if (!run.pump([&] { return s.rx - s.fwd_told >= p.credit || s.rx >= p.burst_bytes || s.rsts > 0; })) {
      stalled = true;
      break;
    }
    run.settle();  // credit used up: anything now is beyond it
    if (s.rx >= p.burst_bytes || s.rsts > 0) break;
    s.fwd_told = s.rx;  // consumed: the device may send buf_alloc more
    if (!run.control(s, vs::kOpCreditUpdate)) break;
    ++updates;
  }
  run.settle();
  result("vsock.credit", "buf_alloc=", dec(p.credit), " bytes=", dec(s.rx), " of ", dec(p.burst_bytes),
         " max_unacked=", dec(s.max_unacked), " updates=", dec(updates), " bad=", dec(s.bad_bytes));
  const bool closed = opened && s.rsts == 0 && run.close(s);
  run.untrack(s);
  check("vsock.credit",
        opened && !stalled && closed && s.rx == p.burst_bytes && s.max_unacked <= p.credit && s.bad_bytes == 0,
        "opened=", dec(opened ? 1 : 0), " stalled=", dec(stalled ? 1 : 0), " bytes=", dec(s.rx), " max_unacked=",
        dec(s.max_unacked), " buf_alloc=", dec(p.credit), " closed=", dec(closed ? 1 : 0));
}

// A host that never reads: the guest sends 64 KiB packets past the device's credit.
void check_credit_lie(VsockRun& run, const driver::DmaBuffer& big) {
  begin_check("vsock.credit_lie");
  VsockStream s;
  run.init(s, run.params().sink_port, 0);
  const bool opened = run.open(s);
  const uint32_t credit = s.peer_buf_alloc;
  uint32_t beyond = 0;  // most bytes sent beyond the credit the device had announced
  for (uint32_t i = 0; opened && i < 128 && s.rsts == 0; ++i) {
    vs::Header h = run.port().header(vs::kOpRw, s.local, s.peer, vs::kMaxPayload);
    h.buf_alloc = s.buf_alloc;
    const driver::Segment seg{big.phys, vs::kMaxPayload};
    if (!run.port().send_chain(h, vs::kHeaderBytes, &seg, 1)) break;
    s.tx += vs::kMaxPayload;
    const uint32_t allowed = s.peer_fwd_cnt + s.peer_buf_alloc;
    if (s.tx - allowed < 0x80000000u && s.tx - allowed > beyond) beyond = s.tx - allowed;
    (void)run.pump([&] { return s.rsts > 0; }, kQuietCycles / 8);
  }
  if (opened) (void)run.pump([&] { return s.rsts > 0; });
  (void)run.port().drain_tx();
  run.settle();  // RW that followed the reset gets RST too
  run.untrack(s);
  if (opened) ++run.expected_errors;  // the one RW beyond the credit
  result("vsock.credit_lie", "sent=", dec(s.tx), " buf_alloc=", dec(credit), " fwd_cnt=", dec(s.peer_fwd_cnt),
         " beyond=", dec(beyond), " rst=", dec(s.rsts));
  check("vsock.credit_lie", opened && s.rsts > 0, "opened=", dec(opened ? 1 : 0), " sent=", dec(s.tx), " no RST");
}

}  // namespace

void run_vsock_streams(VsockRun& run, const driver::DmaBuffer& big) {
  const VsockParams& p = run.params();
  VsockStream s[kVsockMaxStreams];
  const bool echoed = check_connect_and_echo(run, s, p.streams);
  if (echoed) {
    check_credit_request(run, s[0]);
    check_shutdown(run, s, p.streams);
    check_half_close(run, s[1]);
    check_rw_closed(run, s[0]);
  }
  run.settle();
  for (VsockStream& t : s) run.untrack(t);
  if (p.burst_port != 0) check_credit(run);
  if (p.sink_port != 0) check_credit_lie(run, big);
}

}  // namespace kiln::probe
