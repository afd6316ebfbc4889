// When KVM cannot emulate an instruction (kvm_pvm hosts run guest kernel code through KVM's
// emulator, which lacks several instructions), kiln emulates it in user space and resumes.
#pragma once

#include "arch/x86_64/emulator/emulation_counters.h"
#include "common/result.h"
#include "kvm/vcpu_fd.h"
#include "memory/guest_memory.h"

namespace kiln {

// Emulates the instruction of an emulation-failure exit (kvm/api.txt 5: emulation_failure), writes
// the new registers back and queues any exception the instruction raises. An error means kiln does
// not know the instruction (the message names it, with its bytes and RIP): the VM must stop.
[[nodiscard]] Status emulate_failed_instruction(VcpuFd& vcpu, const kvm_run& run, const GuestMemory& mem,
                                                x86::EmulationCounters& counters);

}  // namespace kiln
