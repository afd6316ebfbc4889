// Filling the probe's IDT from ring 3 (see ring0.S for why not in ring 0).
#pragma once

namespace kiln::probe {

// Points all PROBE_VECTORS gates at their stubs: 64-bit interrupt gates (IF cleared on entry),
// DPL 0 (so a ring-3 INT n is a #GP), kernel code selector, no IST. Must run before anything
// can raise an exception or interrupt. Fails the run if the stubs are not laid out as expected.
void install_idt();

}  // namespace kiln::probe
