// Scenarios: what one probe run checks, chosen with probe=NAME on the command line. One file
// per scenario, listed in table.cpp; each prints its PROBE lines through report.h and returns
// (main.cpp prints the summary and resets). Parameters are further key=value words.
#pragma once

#include <cstdint>

#include "probe/lib/cmdline.h"

namespace kiln::probe {

struct Context {
  Cmdline cmdline;

  // Parameter `key` as a number (C literal), `fallback` if absent. A malformed value fails the
  // check "params" and returns false; the scenario should then return at once.
  [[nodiscard]] bool number(Text key, uint64_t fallback, uint64_t& out) const;
  // Like number(), and the value must lie in [min, max].
  [[nodiscard]] bool number_in(Text key, uint64_t fallback, uint64_t min, uint64_t max, uint64_t& out) const;
  // Parameter `key` as text, `fallback` if absent.
  [[nodiscard]] Text text(Text key, Text fallback) const;
};

using ScenarioRun = void (*)(const Context&);

struct Scenario {
  const char* name;
  ScenarioRun run;
};

// The scenario called `name`, or nullptr.
[[nodiscard]] const Scenario* find_scenario(Text name);
// Prints "PROBE info scenarios <name> <name>...".
void print_scenario_list();

void run_exits(const Context& ctx);     // exits.cpp
void run_serial(const Context& ctx);    // serial.cpp
void run_pci_scan(const Context& ctx);  // pci_scan.cpp
void run_selftest(const Context& ctx);  // selftest.cpp
void run_mmio_regs(const Context& ctx); // mmio_regs.cpp
void run_blk(const Context& ctx);       // blk.cpp (blk_bench.cpp)
void run_rng(const Context& ctx);       // rng.cpp
void run_console(const Context& ctx);   // console.cpp
void run_hostile(const Context& ctx);   // hostile.cpp
void run_virtio_pci(const Context& ctx);  // virtio_pci.cpp
void run_pci_regs(const Context& ctx);    // pci_regs.cpp
void run_ticker(const Context& ctx);    // ticker.cpp
void run_flood(const Context& ctx);     // flood.cpp (flood_kinds.cpp)
void run_blk_hammer(const Context& ctx);  // blk_hammer.cpp
void run_pci_msix(const Context& ctx);  // pci_msix.cpp
void run_net(const Context& ctx);       // net.cpp (net_setup.cpp, net_bench.h)
void run_vsock(const Context& ctx);     // vsock.cpp (vsock_{port,run,streams,hostile}.cpp)

}  // namespace kiln::probe
