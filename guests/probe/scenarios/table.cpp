// The scenario table and parameter access. New scenarios get a file of their own and a row here.
#include "probe/lib/report.h"
#include "probe/scenarios/scenario.h"

namespace kiln::probe {
namespace {

constexpr Scenario kScenarios[] = {
    {"exits", run_exits},
    {"serial", run_serial},
    {"pci-scan", run_pci_scan},
    {"selftest", run_selftest},
    {"mmio-regs", run_mmio_regs},
    {"blk", run_blk},
    {"rng", run_rng},
    {"console", run_console},
    {"hostile", run_hostile},
    {"virtio-pci", run_virtio_pci},
    {"pci-regs", run_pci_regs},
    {"ticker", run_ticker},
    {"flood", run_flood},
    {"blk-hammer", run_blk_hammer},
    {"pci-msix", run_pci_msix},
    {"net", run_net},
    {"vsock", run_vsock},
};

}  // namespace

const Scenario* find_scenario(Text name) {
  for (const Scenario& s : kScenarios) {
    if (Text{s.name} == name) return &s;
  }
  return nullptr;
}

void print_scenario_list() {
  guest::emit("PROBE info scenarios");
  for (const Scenario& s : kScenarios) {
    guest::serial_putc(' ');
    guest::emit(Text{s.name});
  }
  guest::serial_putc('\n');
}

bool Context::number(Text key, uint64_t fallback, uint64_t& out) const {
  Text value;
  if (!cmdline.find(key, value)) {
    out = fallback;
    return true;
  }
  if (parse_number(value, out)) return true;
  fail("params", key, "=", value, " is not a number");
  return false;
}

bool Context::number_in(Text key, uint64_t fallback, uint64_t min, uint64_t max, uint64_t& out) const {
  if (!number(key, fallback, out)) return false;
  if (out >= min && out <= max) return true;
  fail("params", key, "=", dec(out), " is outside ", dec(min), "..", dec(max));
  return false;
}

Text Context::text(Text key, Text fallback) const {
  Text value;
  return cmdline.find(key, value) ? value : fallback;
}

}  // namespace kiln::probe
