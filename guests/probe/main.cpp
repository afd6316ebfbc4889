// kiln-probe: a freestanding ring-3 test program for VMMs (guests/probe/README.md).
// probe_main is entered from the ring-0 start-up (start/ring0.S) in ring 3 with IOPL = 3 and
// interrupts off. It fills the IDT, reads the command line from hvm_start_info, lists what the
// command line announces, runs the scenario named by probe=NAME, prints the summary and resets.
#include "probe/lib/idt.h"
#include "probe/lib/report.h"
#include "probe/lib/start_info.h"
#include "probe/lib/virtio_mmio_cmdline.h"
#include "probe/scenarios/scenario.h"
#include "probe/start/ring0.h"

extern "C" void probe_main(uint32_t kind, uint64_t info_address) {
  using namespace kiln::probe;
  install_idt();  // first: until it is filled, any exception is a triple fault
  print_line("PROBE start kiln-probe");

  const StartInfo start = read_start_info(kind, info_address);
  if (!start.ok) {
    fail("discovery.start_info", start.error, " ", hex(start.error_value));
    finish();
  }
  pass("discovery.start_info");
  const Context ctx{Cmdline{start.cmdline}};
  info("cmdline=", start.cmdline);
  (void)list_virtio_mmio_devices(ctx.cmdline);

  Text name;
  if (!ctx.cmdline.find("probe", name)) {
    fail("probe", "no scenario: put probe=NAME on the command line");
    print_scenario_list();
    finish();
  }
  const Scenario* scenario = find_scenario(name);
  if (scenario == nullptr) {
    fail("probe", "unknown scenario ", name);
    print_scenario_list();
    finish();
  }
  print_line("PROBE scenario ", name);
  scenario->run(ctx);
  finish();
}
