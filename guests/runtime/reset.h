// Ending a test guest: i8042 pulse reset, halt, or spin.
#pragma once

namespace kiln::guest {

// `cli; hlt` in a loop: the vCPU stays halted with interrupts off.
[[noreturn]] void halt_forever();

// A tight loop without HLT: the vCPU keeps running until the VMM is stopped from outside.
[[noreturn]] void spin_forever();

// Pulses the reset line through the i8042 controller (command 0xfe to port 0x64), which a VMM
// turns into a VM reset or exit; halts if the machine keeps running.
[[noreturn]] void i8042_reset();

}  // namespace kiln::guest
