// probe=vsock's hostile packets (issue 15): one malformed or out-of-place packet per check, each
// answered with RST where the spec and Linux do (5.10.6.3: a packet for no socket gets RST, an
// RST never gets one), or dropped, and counted by the device when it is malformed; the device
// keeps working. Then a flood of REQUESTs to ports nobody listens on: an RST for every one.
//   vsock.bad_src_cid       REQUEST from another CID: dropped, no answer
//   vsock.bad_dst_cid       REQUEST to a CID that is not the host: RST, no stream
//   vsock.bad_type          REQUEST of type SEQPACKET (not negotiated): RST, no stream
//   vsock.bad_op, .op_invalid   op 0x77, op 0: RST
//   vsock.len_huge          RW with len 2^32 - 1 and no payload: RST
//   vsock.len_on_control    REQUEST with a 16-byte payload: RST, no stream
//   vsock.short_header      a 20-byte chain: dropped, no answer
//   vsock.rw_unknown, .response_unknown   RW, RESPONSE for no stream: RST (not a guest error)
//   vsock.rst_unknown       RST for no stream: no answer
//   vsock.stream_len_beyond RW on an open stream whose len (512) is beyond the chain (100 bytes)
//   vsock.stream_bad_op, .stream_bad_type, .stream_request   on an open stream
//                           each: RST, and the device has closed the stream (more RW gets RST,
//                           no echo)
//   vsock.flood             vsock.flood REQUESTs to 16 ports nobody listens on, published as fast
//                           as tx slots free up: exactly one RST for each
//   vsock.after_flood       a new stream echoes
#include "probe/scenarios/vsock_scenario.h"

namespace kiln::probe {
namespace {

enum Mutation : uint8_t { kNone, kSrcCid, kDstCid, kType };

struct Hostile {
  const char* name;
  uint16_t op;
  uint32_t len;           // the header's len
  uint32_t payload;       // bytes in the chain after the header
  uint32_t header_bytes;  // 44, or a short header
  Mutation mutation;
  bool on_stream;         // sent on an open stream to the echo port
  bool rst;               // the device answers RST
  bool error;             // the device counts a guest error
};

constexpr uint16_t kOpUnknown = 0x77;

constexpr Hostile kCases[] = {
    {"vsock.bad_src_cid", vs::kOpRequest, 0, 0, 44, kSrcCid, false, false, true},
    {"vsock.bad_dst_cid", vs::kOpRequest, 0, 0, 44, kDstCid, false, true, true},
    {"vsock.bad_type", vs::kOpRequest, 0, 0, 44, kType, false, true, true},
    {"vsock.bad_op", kOpUnknown, 0, 0, 44, kNone, false, true, true},
    {"vsock.op_invalid", vs::kOpInvalid, 0, 0, 44, kNone, false, true, true},
    {"vsock.len_huge", vs::kOpRw, 0xffffffffu, 0, 44, kNone, false, true, true},
    {"vsock.len_on_control", vs::kOpRequest, 16, 16, 44, kNone, false, true, true},
    {"vsock.short_header", vs::kOpRequest, 0, 0, 20, kNone, false, false, true},
    {"vsock.rw_unknown", vs::kOpRw, 10, 10, 44, kNone, false, true, false},
    {"vsock.response_unknown", vs::kOpResponse, 0, 0, 44, kNone, false, true, false},
    {"vsock.rst_unknown", vs::kOpRst, 0, 0, 44, kNone, false, false, false},
    {"vsock.stream_len_beyond", vs::kOpRw, 512, 100, 44, kNone, true, true, true},
    {"vsock.stream_bad_op", kOpUnknown, 0, 0, 44, kNone, true, true, true},
    {"vsock.stream_bad_type", vs::kOpRw, 10, 10, 44, kType, true, true, true},
    {"vsock.stream_request", vs::kOpRequest, 0, 0, 44, kNone, true, true, true},
};

void run_case(VsockRun& run, const Hostile& c) {
  const Text name{c.name};
  begin_check(name);
  VsockPort& port = run.port();
  VsockStream s;
  run.init(s, run.params().port, 0);
  s.any_src_cid = c.mutation == kDstCid;  // an RST from the host or from the CID addressed
  const bool opened = !c.on_stream || run.open(s);
  vs::Header h = port.header(c.op, s.local, s.peer, c.len);
  h.buf_alloc = s.buf_alloc;
  h.fwd_cnt = s.rx;
  if (c.mutation == kSrcCid) h.src_cid = port.cid() + 1;
  if (c.mutation == kDstCid) h.dst_cid = port.cid() + 1;
  if (c.mutation == kType) h.type = vs::kTypeSeqpacket;
  const uint8_t zeros[128] = {};
  const uint32_t packets_before = s.packets;
  const uint32_t rsts_before = s.rsts;
  const bool sent = opened && (c.header_bytes == vs::kHeaderBytes ? port.send(h, zeros, c.payload)
                                                                   : port.send_chain(h, c.header_bytes, nullptr, 0));
  if (sent && c.rst) (void)run.pump([&] { return s.rsts > rsts_before; });
  run.settle();  // and nothing else
  const uint32_t answers = s.packets - packets_before;
  const uint32_t rsts = s.rsts - rsts_before;
  const uint16_t answer_op = answers != 0 ? s.last.op : vs::kOpInvalid;
  const bool answered = c.rst ? rsts == 1 && answers == 1 : answers == 0;
  // After an RST the guest's side is closed: the device's must be too, so more data gets RST,
  // not an echo (5.10.6.4).
  bool forgotten = true;
  if (sent && c.on_stream) {
    const uint8_t data[10] = {};
    vs::Header rw = port.header(vs::kOpRw, s.local, s.peer, sizeof data);
    rw.buf_alloc = s.buf_alloc;
    const uint32_t r = s.rsts;
    forgotten = port.send(rw, data, sizeof data) && run.pump([&] { return s.rsts > r || s.rx > 0; }) && s.rsts > r &&
                s.rx == 0;
    run.settle();
  }
  const bool drained = port.drain_tx();
  run.untrack(s);
  if (sent && c.error) ++run.expected_errors;
  result(name, "answers=", dec(answers), " rst=", dec(rsts), " op=", vs::op_name(answer_op), " echoed=", dec(s.rx));
  check(name, sent && answered && forgotten && drained, "opened=", dec(opened ? 1 : 0), " sent=", dec(sent ? 1 : 0),
        " answers=", dec(answers), " rst=", dec(rsts), " first_op=", vs::op_name(answer_op), " stream_closed=",
        dec(forgotten ? 1 : 0), " tx_drained=", dec(drained ? 1 : 0));
}

// One bit per flood REQUEST: its RST came. Zero-initialised, no constructor (guest.ld).
uint8_t g_flood_seen[65536 / 8];

void check_flood(VsockRun& run) {
  const VsockParams& p = run.params();
  begin_check("vsock.flood");
  VsockPort& port = run.port();
  const uint32_t n = p.flood;
  const uint32_t base = run.reserve_ports(n);
  for (uint8_t& b : g_flood_seen) b = 0;
  uint32_t sent = 0, rsts = 0, dups = 0, wrong = 0;
  auto claim = [&](const VsockPacket& pk) {
    const uint32_t i = pk.h.dst_port - base;
    if (pk.h.op != vs::kOpRst || pk.h.dst_port < base || i >= n) return false;
    if (pk.h.src_port != p.flood_port + i % 16 || pk.h.len != 0) ++wrong;
    if ((g_flood_seen[i / 8] & (1u << (i % 8))) != 0) {
      ++dups;
    } else {
      g_flood_seen[i / 8] = static_cast<uint8_t>(g_flood_seen[i / 8] | (1u << (i % 8)));
      ++rsts;
    }
    return true;
  };
  for (;;) {
    uint32_t batch = 0;
    while (sent < n && port.tx_slot_free()) {
      vs::Header h = port.header(vs::kOpRequest, base + sent, p.flood_port + sent % 16);
      h.buf_alloc = kVsockEchoBufAlloc;
      if (!port.send(h, nullptr, 0, false)) break;
      ++sent;
      ++batch;
    }
    if (batch != 0) port.kick_tx();
    if (!run.pump_with([&] { return rsts >= n || (sent < n && port.tx_slot_free()); }, claim)) break;
    if (rsts >= n) break;
  }
  (void)port.drain_tx();
  run.settle();
  result("vsock.flood", "sent=", dec(sent), " rst=", dec(rsts), " duplicate=", dec(dups), " wrong=", dec(wrong));
  check("vsock.flood", sent == n && rsts == n && dups == 0 && wrong == 0, "sent=", dec(sent), " rst=", dec(rsts),
        " duplicate=", dec(dups), " wrong=", dec(wrong));
}

}  // namespace

void run_vsock_hostile(VsockRun& run) {
  for (const Hostile& c : kCases) run_case(run, c);
  if (run.params().flood != 0) check_flood(run);
  begin_check("vsock.after_flood");
  const char* why = run.echo_stream(90, 2000);
  check("vsock.after_flood", *why == '\0', "failed at ", why);
}

}  // namespace kiln::probe
