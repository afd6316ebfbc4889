// probe=console: virtio-console (device ID 3), port 0 without MULTIPORT: queue 0 receiveq,
// queue 1 transmitq. Posts receive buffers, transmits "<console.text>\n" (the harness finds the
// line on the VMM's stdout) and reports what arrived. Checks:
//   console.found, console.negotiate, console.queue, console.driver_ok   bring-up
//   console.transmit   the transmit buffer came back used
//   console.reset      Status 0 resets the device
// Lines: PROBE result console.config cols= rows= (only with VIRTIO_CONSOLE_F_SIZE),
// PROBE result console.tx bytes=N, PROBE result console.rx bytes=N (what had arrived by the end).
// Parameters: console.text=kiln-probe-console-hello (one word, up to 200 characters),
// console.rx_buffers=4 (0..16).
#include "probe/lib/report.h"
#include "probe/scenarios/virtio_setup.h"

namespace kiln::probe {

void run_console(const Context& ctx) {
  namespace console = driver::console;
  const Text text = ctx.text("console.text", "kiln-probe-console-hello");
  uint64_t rx_buffers = 0;
  if (!ctx.number_in("console.rx_buffers", 4, 0, 16, rx_buffers)) return;
  if (text.size > 200) {
    fail("params", "console.text is longer than 200 characters");
    return;
  }
  driver::Arena arena = dma_arena();
  VirtioSetup dev;
  VirtioSetupParams s;
  s.scenario = "console";
  s.device_id = driver::kDeviceConsole;
  s.wanted = driver::bit(console::kFeatureSize);  // not MULTIPORT: port 0 on queues 0 and 1
  s.queues = 2;
  if (!dev.bring_up(ctx, s, arena)) return;
  if ((dev.accepted() & driver::bit(console::kFeatureSize)) != 0) {
    result("console.config", "cols=", dec(dev.transport().config16(0)), " rows=", dec(dev.transport().config16(2)));
  }

  auto rx = arena.allocate(rx_buffers * 64 + 1, 64);
  auto tx = arena.allocate(text.size + 1, 64);
  if (!rx || !tx) {
    fail("console.arena", "out of DMA memory");
    return;
  }
  MmioQueue& rq = dev.queue(console::kReceiveQueue);
  for (uint64_t i = 0; i < rx_buffers; ++i) {
    const driver::Segment seg{rx->phys + i * 64, 64};
    (void)rq.add(&seg, 0, 1, i);
  }
  rq.kick();

  for (size_t i = 0; i < text.size; ++i) tx->host[i] = static_cast<uint8_t>(text.data[i]);
  tx->host[text.size] = '\n';
  MmioQueue& tq = dev.queue(console::kTransmitQueue);
  begin_check("console.transmit");
  const driver::Segment out{tx->phys, static_cast<uint32_t>(text.size + 1)};
  if (!tq.add(&out, 1, 0, 0).ok()) {
    fail("console.transmit", "could not add the buffer");
    return;
  }
  tq.kick();
  driver::Completion c;
  const driver::Poll p = wait_used(tq, c);
  result("console.tx", "bytes=", dec(text.size + 1));
  check("console.transmit", p == driver::Poll::done, p == driver::Poll::empty ? "no completion in time" : "bad used id");

  uint64_t received = 0;
  while (rq.poll(c) == driver::Poll::done) received += c.len;
  result("console.rx", "bytes=", dec(received));
  dev.reset("console.reset");
}

}  // namespace kiln::probe
