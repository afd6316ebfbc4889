#include "vmm/emulation_fallback.h"

#include <vector>

#include "arch/x86_64/emulator/emulator.h"

namespace kiln {
namespace {
constexpr uint32_t kMsrTscAux = 0xc0000103;
constexpr uint32_t kXcr0 = 0;
}  // namespace

Status emulate_failed_instruction(VcpuFd& vcpu, const kvm_run& run, const GuestMemory& mem,
                                  x86::EmulationCounters& counters) {
  x86::CpuState state;
  auto regs = KILN_TRY_VALUE(vcpu.get_regs());
  auto sregs = KILN_TRY_VALUE(vcpu.get_sregs());
  state.regs = regs;
  state.sregs = sregs;
  if (auto xcrs = vcpu.get_xcrs()) {
    for (uint32_t i = 0; i < xcrs->nr_xcrs && i < KVM_MAX_XCRS; ++i) {
      if (xcrs->xcrs[i].xcr == kXcr0) state.xcr0 = xcrs->xcrs[i].value;
    }
  }
  if (auto aux = vcpu.get_msr(kMsrTscAux)) state.tsc_aux = static_cast<uint32_t>(*aux);

  // The exit carries the bytes when KVM_CAP_EXIT_ON_EMULATION_FAILURE is on; otherwise fetch them.
  std::vector<uint8_t> bytes;
  const auto& ef = run.emulation_failure;
  if ((ef.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) != 0 && ef.insn_size > 0) {
    bytes.assign(ef.insn_bytes, ef.insn_bytes + std::min<size_t>(ef.insn_size, sizeof(ef.insn_bytes)));
  } else {
    auto fetched = KILN_TRY_VALUE(x86::fetch_instruction(state, mem));
    bytes = std::move(fetched);
  }

  auto result = KILN_TRY_VALUE(x86::emulate_instruction(bytes, state, mem));
  counters.record(result.mnemonic);
  if (result.regs_changed) KILN_TRY(vcpu.set_regs(state.regs));
  if (result.sregs_changed) KILN_TRY(vcpu.set_sregs(state.sregs));
  if (result.inject) {
    // After the register writes, which would drop a queued exception (kvm/api.txt 4.31).
    auto events = KILN_TRY_VALUE(vcpu.get_vcpu_events());
    events.exception.injected = 1;
    events.exception.nr = result.inject->vector;
    events.exception.has_error_code = result.inject->has_error_code ? 1 : 0;
    events.exception.error_code = result.inject->error_code;
    events.flags = 0;
    KILN_TRY(vcpu.set_vcpu_events(events));
  }
  return {};
}

}  // namespace kiln
