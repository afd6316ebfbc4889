#include "probe/scenarios/virtio_setup.h"

#include "probe/lib/pci.h"
#include "probe/lib/report.h"

namespace kiln::probe {
namespace {

// "<prefix>.<step>"; lives as long as the step (begin_check keeps a view of it until pass/fail).
struct CheckName {
  char text[48];
  size_t size;
  [[nodiscard]] Text view() const { return Text{text, size}; }
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

// What follows finding the device, on either transport (virtio 0.9.5, 2.2.1): negotiate, set up
// the queues (interrupts suppressed: the probe polls), DRIVER_OK.
template <class Transport>
bool negotiate_and_start(Transport& t, const VirtioSetupParams& p, driver::Arena& arena,
                         driver::Queue<Transport>* queues, uint64_t& offered, uint64_t& accepted_out) {
  uint64_t wanted = p.wanted;
  if (p.indirect) wanted |= driver::bit(driver::kFeatureIndirectDesc);
  if (p.event_idx) wanted |= driver::bit(driver::kFeatureEventIdx);
  const CheckName negotiate = name_of(p.scenario, "negotiate");
  begin_check(negotiate.view());
  offered = t.host_features();
  auto accepted = driver::negotiate(t, wanted);
  const CheckName features = name_of(p.scenario, "features");
  result(features.view(), "offered=", hex(offered), " accepted=", hex(accepted.ok() ? accepted.value() : 0));
  const uint8_t status = t.status();
  if (!check(negotiate.view(), accepted.ok() && status == 3, "error=", driver::error_name(accepted.error()),
             " status=", hex(status))) {
    return false;
  }
  accepted_out = accepted.value();

  const CheckName queue = name_of(p.scenario, "queue");
  begin_check(queue.view());
  const driver::RingOptions opts = driver::ring_options(accepted_out, p.indirect_max);
  for (uint16_t i = 0; i < p.queues && i < kMaxSetupQueues; ++i) {
    auto q = driver::setup_queue(t, arena, i, p.queue_size, opts);
    if (!q) {
      fail(queue.view(), "queue=", dec(i), " error=", driver::error_name(q.error()), " num_max=", dec(t.queue_max(i)));
      return false;
    }
    queues[i] = q.value();
    queues[i].ring().disable_interrupts();  // the probe polls
    result(queue.view(), "index=", dec(i), " size=", dec(queues[i].ring().size()), " pfn=", hex(t.queue_pfn(i)),
           " event_idx=", dec(opts.event_idx ? 1 : 0), " indirect_max=", dec(opts.indirect_max));
  }
  pass(queue.view());

  const CheckName ok = name_of(p.scenario, "driver_ok");
  begin_check(ok.view());
  const driver::Error e = driver::driver_ok(t);
  return check(ok.view(), e == driver::Error::none, "status=", hex(t.status()));
}

// Status 0; Status and queue 0's address (QueuePFN) read 0 again.
template <class Transport>
void reset_and_check(Transport& t, Text check_name) {
  begin_check(check_name);
  t.reset();
  const uint8_t status = t.status();
  const uint32_t pfn = t.queue_pfn(0);
  check(check_name, status == 0 && pfn == 0, "status=", hex(status), " pfn=", hex(pfn));
}

constexpr uint32_t kPciCommand = 0x04;
constexpr uint32_t kCommandIo = 1, kCommandMaster = 4;
constexpr uint32_t kPciBar0 = 0x10;
constexpr uint32_t kPciSubsystem = 0x2c;  // subsystem vendor (low 16) and ID (high 16)

}  // namespace

bool VirtioSetup::bring_up(const Context& ctx, const VirtioSetupParams& p, driver::Arena& arena) {
  const CheckName found = name_of(p.scenario, "found");
  if (!find_virtio_mmio(ctx.cmdline, p.device_id, where_)) {
    fail(found.view(), "no virtio-mmio device with ID ", dec(p.device_id), " among the virtio_mmio.device= entries");
    return false;
  }
  info(p.scenario, " device base=", hex(where_.base), " irq=", dec(where_.irq));
  pass(found.view());
  transport_ = Mmio(MmioRegisters{where_.base});
  return negotiate_and_start(transport_, p, arena, queues_, offered_, accepted_);
}

void VirtioSetup::reset(Text check_name) { reset_and_check(transport_, check_name); }

bool VirtioPciSetup::bring_up(const Context&, const VirtioSetupParams& p, driver::Arena& arena) {
  const CheckName found = name_of(p.scenario, "found");
  bool seen = false;
  PciFunction where{};
  (void)pci_scan_bus(0, [&](const PciFunction& fn) {
    if (seen || fn.vendor_id != driver::pci::kVendorId || fn.device_id < driver::pci::kFirstDeviceId ||
        fn.device_id > driver::pci::kLastDeviceId) {
      return;
    }
    seen = pci_config_read32(0, fn.device, fn.function, kPciSubsystem) >> 16 == p.device_id;
    if (seen) where = fn;
  });
  if (!seen) {
    fail(found.view(), "no legacy virtio-PCI function with subsystem ID ", dec(p.device_id), " on bus 0");
    return false;
  }
  const uint32_t bar0 = pci_config_read32(0, where.device, where.function, kPciBar0);
  const uint32_t io = bar0 & ~3u;
  const bool io_bar = (bar0 & 1) != 0 && io != 0 && io <= 0xffff;
  if (io_bar) info(p.scenario, " device pci=0:", dec(where.device), ".", dec(where.function), " io=", hex(io));
  if (!check(found.view(), io_bar, "device=", dec(where.device), " function=", dec(where.function), " bar0=",
             hex(bar0))) {
    return false;
  }
  const uint32_t command = pci_config_read32(0, where.device, where.function, kPciCommand) & 0xffff;
  pci_config_write32(0, where.device, where.function, kPciCommand, command | kCommandIo | kCommandMaster);
  transport_ = PciIo(PortRegisters{static_cast<uint16_t>(io)});
  return negotiate_and_start(transport_, p, arena, queues_, offered_, accepted_);
}

void VirtioPciSetup::reset(Text check_name) { reset_and_check(transport_, check_name); }

}  // namespace kiln::probe
