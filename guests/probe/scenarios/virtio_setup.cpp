#include "probe/scenarios/virtio_setup.h"

#include "probe/lib/report.h"

namespace kiln::probe {
namespace {

// "<prefix>.<step>"; lives as long as the step (begin_check keeps a view of it until pass/fail).
struct CheckName {
  char text[48];
  size_t size;
};

CheckName name_of(Text prefix, Text step) {
  CheckName n{};
  size_t at = 0;
  for (size_t i = 0; i < prefix.size && at < sizeof(n.text) - 1; ++i) n.text[at++] = prefix.data[i];
  if (at < sizeof(n.text) - 1) n.text[at++] = '.';
  for (size_t i = 0; i < step.size && at < sizeof(n.text) - 1; ++i) n.text[at++] = step.data[i];
  n.size = at;
  return n;
}

}  // namespace

bool VirtioSetup::bring_up(const Context& ctx, const VirtioSetupParams& p, driver::Arena& arena) {
  const CheckName found = name_of(p.scenario, "found");
  if (!find_virtio_mmio(ctx.cmdline, p.device_id, where_)) {
    fail(Text{found.text, found.size}, "no virtio-mmio device with ID ", dec(p.device_id),
         " among the virtio_mmio.device= entries");
    return false;
  }
  info(p.scenario, " device base=", hex(where_.base), " irq=", dec(where_.irq));
  pass(Text{found.text, found.size});
  transport_ = Mmio(MmioRegisters{where_.base});

  uint64_t wanted = p.wanted;
  if (p.indirect) wanted |= driver::bit(driver::kFeatureIndirectDesc);
  if (p.event_idx) wanted |= driver::bit(driver::kFeatureEventIdx);
  const CheckName negotiate = name_of(p.scenario, "negotiate");
  begin_check(Text{negotiate.text, negotiate.size});
  offered_ = transport_.host_features();
  auto accepted = driver::negotiate(transport_, wanted);
  const CheckName features = name_of(p.scenario, "features");
  result(Text{features.text, features.size}, "offered=", hex(offered_), " accepted=",
         hex(accepted.ok() ? accepted.value() : 0));
  const uint8_t status = transport_.status();
  if (!check(Text{negotiate.text, negotiate.size}, accepted.ok() && status == 3, "error=",
             driver::error_name(accepted.error()), " status=", hex(status))) {
    return false;
  }
  accepted_ = accepted.value();

  const CheckName queue = name_of(p.scenario, "queue");
  begin_check(Text{queue.text, queue.size});
  const driver::RingOptions opts = driver::ring_options(accepted_, p.indirect_max);
  for (uint16_t i = 0; i < p.queues && i < kMaxSetupQueues; ++i) {
    auto q = driver::setup_queue(transport_, arena, i, p.queue_size, opts);
    if (!q) {
      fail(Text{queue.text, queue.size}, "queue=", dec(i), " error=", driver::error_name(q.error()),
           " num_max=", dec(transport_.queue_max(i)));
      return false;
    }
    queues_[i] = q.value();
    queues_[i].ring().disable_interrupts();  // the probe polls
    result(Text{queue.text, queue.size}, "index=", dec(i), " size=", dec(queues_[i].ring().size()),
           " pfn=", hex(transport_.queue_pfn(i)), " event_idx=", dec(opts.event_idx ? 1 : 0),
           " indirect_max=", dec(opts.indirect_max));
  }
  pass(Text{queue.text, queue.size});

  const CheckName ok = name_of(p.scenario, "driver_ok");
  begin_check(Text{ok.text, ok.size});
  const driver::Error e = driver::driver_ok(transport_);
  return check(Text{ok.text, ok.size}, e == driver::Error::none, "status=", hex(transport_.status()));
}

void VirtioSetup::reset(Text check_name) {
  begin_check(check_name);
  transport_.reset();
  const uint8_t status = transport_.status();
  const uint32_t pfn = transport_.queue_pfn(0);
  check(check_name, status == 0 && pfn == 0, "status=", hex(status), " pfn=", hex(pfn));
}

}  // namespace kiln::probe
