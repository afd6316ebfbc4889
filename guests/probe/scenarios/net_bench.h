// probe=net net.pps=N: frames per second through the virtio-net device, the VMM's own cost (the
// probe polls with interrupts suppressed and times itself with the TSC). Two modes in one run:
//   tx    N 60-byte frames the peer only counts (op sink); transmit notifications once per 16
//         frames (as a driver batching with xmit_more would); timed from the first frame to the
//         last completion; then the peer says how many it got (op count)
//   echo  N 60-byte echo requests with net.window in flight, timed to the last reply
// Lines: PROBE result tsc hz= source=; PROBE result net.pps mode=tx frames= delivered= cycles=
// fps=; PROBE result net.pps mode=echo frames= cycles= fps=. Checks net.pps.tx (the peer got every
// frame) and net.pps.echo (every reply came).
#pragma once

#include "probe/lib/tsc.h"

namespace kiln::probe {

inline uint64_t frames_per_second(uint64_t frames, uint64_t cycles, uint64_t hz) {
  return cycles == 0 || hz == 0 ? 0 : frames * hz / cycles;
}

template <class T>
void run_net_bench(NetPort<T>& port, const NetParams& p) {
  const TscFrequency tsc = tsc_frequency(false);
  result("tsc", "hz=", dec(tsc.hz), " source=", tsc.source);
  // Warm-up and a clean count: one echo, then reset the peer's sink counter.
  NetFrame f;
  uint32_t skipped = 0;
  if (!port.request(kOpCount, 0, 1, 0) || !port.receive_reply(kOpCount, f, skipped)) {
    return (void)fail("net.pps.tx", "the peer does not answer");
  }

  begin_check("net.pps.tx");
  const uint64_t t0 = rdtsc_ordered();
  for (uint64_t i = 0; i < p.pps; ++i) {
    const bool kick = (i % 16) == 15 || i + 1 == p.pps;
    if (!port.request(kOpSink, 0, static_cast<uint32_t>(i), 42, {}, kick)) {
      port.tx().kick();
      return (void)fail("net.pps.tx", "no transmit buffer came back at frame ", dec(i));
    }
  }
  // Until every transmit buffer is back.
  uint64_t t1 = rdtsc_ordered();
  while (port.tx().ring().in_flight() != 0 && t1 - t0 < kWaitCycles) {
    (void)port.reap_tx();
    t1 = rdtsc_ordered();
  }
  const uint64_t tx_cycles = t1 - t0;
  uint64_t delivered = 0;
  if (port.request(kOpCount, 0, 2, 0) && port.receive_reply(kOpCount, f, skipped) && f.len >= kEth + 16) {
    __builtin_memcpy(&delivered, f.data + kEth + 8, 8);
  }
  result("net.pps", "mode=tx frames=", dec(p.pps), " delivered=", dec(delivered), " cycles=", dec(tx_cycles),
         " fps=", dec(frames_per_second(p.pps, tx_cycles, tsc.hz)));
  check("net.pps.tx", delivered == p.pps, "delivered=", dec(delivered), " of ", dec(p.pps));

  begin_check("net.pps.echo");
  uint64_t sent = 0;
  uint64_t replies = 0;
  const uint64_t e0 = rdtsc_ordered();
  for (; sent < p.window && sent < p.pps; ++sent) (void)port.request(kOpEcho, 0, static_cast<uint32_t>(sent), 38);
  while (replies < p.pps) {
    if (!port.receive_reply(kOpEcho, f, skipped)) break;
    ++replies;
    (void)port.reap_tx();
    if (sent < p.pps && port.request(kOpEcho, 0, static_cast<uint32_t>(sent), 38)) ++sent;
  }
  const uint64_t echo_cycles = rdtsc_ordered() - e0;
  result("net.pps", "mode=echo frames=", dec(replies), " window=", dec(p.window), " cycles=", dec(echo_cycles),
         " fps=", dec(frames_per_second(replies, echo_cycles, tsc.hz)));
  check("net.pps.echo", replies == p.pps, "replies=", dec(replies), " of ", dec(p.pps));
}

}  // namespace kiln::probe
